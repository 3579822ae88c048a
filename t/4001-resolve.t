#!/bin/bash
# lib/notice/resolve: the abuse contact of an unknown host, through DNS and RDAP,
# against t/rdap-fixture.py on 127.0.0.1 (canned answers in t/data/rdap/,
# redirects, chunked and hostile answers, a server that never answers, and
# TLS with a self-signed certificate). t/unit/test-resolve-tool drives
# lib/notice/resolve; t/unit/test-resolve feeds its parsers hostile bytes.
. "$(dirname "$0")/lib.sh"

tool=$TOP/t/unit/test-resolve-tool
fixture=$TOP/t/rdap-fixture.py
data=$TOP/t/data/rdap

test_expect_success 'unit test t/unit/test-resolve passes' '
	"$TOP/t/unit/test-resolve" >unit.out 2>&1 || { grep -v "^ok" unit.out; false; }
'

if ! command -v python3 >/dev/null 2>&1; then
	say "Bail out! python3 is needed for the RDAP fixture server (make deps)"
	exit 1
fi

pids=
test_atexit 'for p in $pids; do kill "$p" 2>/dev/null; done'

# start_fixture NAME [CERT KEY]: a fixture server; its port in NAME.port.
start_fixture() {
	local name=$1 i
	shift
	python3 "$fixture" "$data" "$name.port" "$name.log" "$@" 2>"$name.err" &
	pids="$pids $!"
	for i in $(seq 100); do
		test -s "$name.port" && return 0
		sleep 0.1
	done
	say "Bail out! the RDAP fixture server did not start"
	sed 's/^/# /' "$name.err"
	exit 1
}

start_fixture http
port=$(cat http.port)
base=http://127.0.0.1:$port
: >http.log

# expect_fail CODE PATTERN HOST BASE [ARGS]: exits CODE, the reason matches.
expect_fail() {
	local code=$1 pat=$2
	shift 2
	expect_exit "$code" "$tool" "$@" >out 2>err &&
	test ! -s out && grep -q "^test-resolve-tool: .*$pat" err
}

test_expect_success 'an IP literal: the nested abuse entity and the network name' '
	"$tool" 127.0.0.1 "$base/nested" >out &&
	cat >expect <<-EOF &&
	addr: 127.0.0.1
	abuse: abuse@hosting.example
	name: EXAMPLE-HOSTING-NET
	source: $base/nested/ip/127.0.0.1
	EOF
	test_cmp expect out &&
	printf "%s\n" "/nested/ip/127.0.0.1 127.0.0.1:$port application/rdap+json" >expect &&
	test_cmp expect http.log
'

test_expect_success 'a host name: its first address is looked up' '
	"$tool" localhost "$base/nested/" >out &&
	addr=$(sed -n "s/^addr: //p" out) &&
	case $addr in 127.0.0.1|::1) ;; *) false ;; esac &&
	grep -qx "abuse: abuse@hosting.example" out &&
	grep -qx "source: $base/nested/ip/$addr" out
'

: >http.log
test_expect_success 'a redirect chain (relative, then absolute) is followed' '
	"$tool" 127.0.0.1 "$base/redirect" >out &&
	grep -qx "abuse: abuse@hosting.example" out &&
	grep -qx "source: $base/nested/ip/127.0.0.1" out &&
	cut -d" " -f1 http.log >paths &&
	printf "/%s/ip/127.0.0.1\n" redirect redirect2 nested >expect &&
	test_cmp expect paths
'

: >http.log
test_expect_success 'too many redirects: refused after max_redirects' '
	expect_fail 65 "too many redirects from .127\.0\.0\.1." 127.0.0.1 "$base/loop" 2000 0 5 &&
	test "$(wc -l <http.log)" = 6
'
test_expect_success 'max_redirects -1: no redirect followed' '
	expect_fail 65 "too many redirects" 127.0.0.1 "$base/redirect" 2000 0 -1
'
test_expect_success 'a redirect to ftp:// is refused' '
	expect_fail 65 "bad redirect" 127.0.0.1 "$base/ftp"
'
test_expect_success 'a redirect with user info is refused' '
	expect_fail 65 "bad redirect" 127.0.0.1 "$base/userinfo"
'

test_expect_success 'a chunked answer (with extensions and a trailer)' '
	"$tool" 127.0.0.1 "$base/chunked" >out &&
	grep -qx "abuse: abuse@hosting.example" out
'
test_expect_success 'an answer without a length, ended by closing' '
	"$tool" 127.0.0.1 "$base/eof" >out &&
	grep -qx "abuse: abuse@hosting.example" out
'

for s in big bigchunked bigeof; do
	test_expect_success "a body over max_bytes is refused ($s)" '
		expect_fail 65 "HTTP body too large from" 127.0.0.1 "$base/$s" 2000 1048576
	'
done
test_expect_success 'the same body within a larger max_bytes is read' '
	expect_fail 65 "no abuse contact for .127\.0\.0\.1." 127.0.0.1 "$base/big" 2000 4194304
'
test_expect_success 'a body cut short of its Content-Length is refused' '
	expect_fail 65 "truncated HTTP answer" 127.0.0.1 "$base/truncated"
'
test_expect_success 'a huge chunk size is refused' '
	expect_fail 65 "malformed HTTP chunk" 127.0.0.1 "$base/badchunk"
'
test_expect_success 'a 10 MB header is refused early' '
	expect_fail 65 "HTTP head too large" 127.0.0.1 "$base/headerbomb"
'

test_expect_success 'malformed JSON is refused' '
	expect_fail 65 "malformed RDAP answer from" 127.0.0.1 "$base/badjson"
'
test_expect_success 'JSON with a field of the wrong type is refused' '
	expect_fail 65 "malformed RDAP answer" 127.0.0.1 "$base/badtypes"
'
test_expect_success 'an abuse e-mail with a newline is refused, and not echoed' '
	expect_fail 65 "invalid abuse e-mail" 127.0.0.1 "$base/newline" &&
	! grep -qi "bcc\|someone\|hosting" err
'

: >http.log
test_expect_success 'no abuse contact on the network: the registrar of the domain' '
	"$tool" localhost "$base/fallback" >out &&
	grep -qx "abuse: abuse@registrar.example" out &&
	grep -qx "name: Example Registrar Inc." out &&
	grep -qx "source: $base/fallback/domain/localhost" out &&
	test "$(wc -l <http.log)" = 2
'
: >http.log
test_expect_success 'an IP literal has no domain to fall back on' '
	expect_fail 65 "no abuse contact for .127\.0\.0\.1." 127.0.0.1 "$base/fallback" &&
	test "$(wc -l <http.log)" = 1
'
test_expect_success 'no abuse contact anywhere (404 on the domain)' '
	expect_fail 65 "no abuse contact for .localhost." localhost "$base/noabuse"
'
test_expect_success 'HTTP 503: a temporary failure' '
	expect_fail 75 "answered 503" 127.0.0.1 "$base/unavailable"
'

test_expect_success 'a server that never answers: timeout' '
	start=$SECONDS &&
	expect_fail 75 "timed out" 127.0.0.1 "$base/hang" 300 &&
	test $((SECONDS - start)) -lt 5
'
test_expect_success 'a server that drips bytes: the whole request times out' '
	start=$SECONDS &&
	expect_fail 75 "timed out" 127.0.0.1 "$base/drip" 300 &&
	test $((SECONDS - start)) -lt 5
'
test_expect_success 'connection refused' '
	free=$(python3 -c "import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
	expect_fail 69 "cannot connect to RDAP server .127\.0\.0\.1.: Connection refused" \
		127.0.0.1 "http://127.0.0.1:$free"
'
test_expect_success 'a host that does not resolve' '
	expect_exit 69 "$tool" no-such-host.invalid "$base/nested" 2>err &&
	grep -q "cannot resolve host .no-such-host\.invalid." err
'
test_expect_success 'an invalid host name or base URL' '
	expect_fail 65 "invalid host name" "bad host/x" "$base/nested" &&
	expect_fail 65 "invalid host name" "" "$base/nested" &&
	expect_fail 78 "invalid RDAP base URL" 127.0.0.1 "ftp://127.0.0.1/" &&
	expect_fail 78 "invalid RDAP base URL" 127.0.0.1 "http://u@127.0.0.1:$port/nested"
'

# A realistic host name, mapped to 127.0.0.1 in a private /etc/hosts.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
    unshare --mount true 2>/dev/null; then
	{ cat /etc/hosts; echo "127.0.0.1 video.host-unknown.example"; } >hosts
	in_hosts() {
		unshare --mount sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' \
			sh "$TRASH/hosts" "$tool" "$@"
	}
	test_expect_success 'a named host: network, then its domain at the registrar' '
		in_hosts video.host-unknown.example "$base/fallback" >out &&
		cat >expect <<-EOF &&
		addr: 127.0.0.1
		abuse: abuse@registrar.example
		name: Example Registrar Inc.
		source: $base/fallback/domain/host-unknown.example
		EOF
		test_cmp expect out
	'
	test_expect_success 'the domain asked about is lowercased' '
		in_hosts VIDEO.Host-Unknown.Example "$base/fallback" >out &&
		grep -qx "source: $base/fallback/domain/host-unknown.example" out
	'
else
	skip 'a named host (needs root and unshare --mount)'
	skip 'the domain asked about is lowercased (needs root and unshare --mount)'
fi

# TLS: a self-signed certificate for localhost, made here.
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost >openssl.out 2>&1; then
	say "Bail out! openssl cannot make a test certificate"
	exit 1
fi
start_fixture https cert.pem key.pem
tport=$(cat https.port)

test_expect_success 'https: a self-signed certificate is refused' '
	expect_fail 69 "TLS certificate refused (self-signed certificate) for .localhost." \
		127.0.0.1 "https://localhost:$tport/nested"
'
test_expect_success 'https: trusted (SSL_CERT_FILE), the answer is read' '
	SSL_CERT_FILE=$TRASH/cert.pem "$tool" 127.0.0.1 "https://localhost:$tport/nested" >out &&
	grep -qx "abuse: abuse@hosting.example" out &&
	grep -qx "source: https://localhost:$tport/nested/ip/127.0.0.1" out
'
test_expect_success 'https: trusted, but not for that name' '
	SSL_CERT_FILE=$TRASH/cert.pem expect_fail 69 "TLS certificate refused (IP address mismatch)" \
		127.0.0.1 "https://127.0.0.1:$tport/nested"
'
test_expect_success 'https: a redirect to plain http is refused' '
	SSL_CERT_FILE=$TRASH/cert.pem expect_fail 65 "redirect from https to http refused" \
		127.0.0.1 "https://localhost:$tport/tohttp"
'
test_expect_success 'http to an https server: no crash, an error' '
	must_fail "$tool" 127.0.0.1 "http://127.0.0.1:$tport/nested" 500 >out 2>err
'

test_done
