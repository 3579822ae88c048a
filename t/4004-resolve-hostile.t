#!/bin/bash
# dz-notify --resolve against hostile and slow servers (issue 15, findings
# 6 and 10): lookups hold no store transaction, so a verdict goes in while
# one is stalled; one deadline for a whole lookup, redirects included; no
# RDAP server at a loopback, private, link-local, multicast or reserved
# address (IPv4-mapped IPv6 too) or on a port other than 80 or 443, unless
# notify.rdap_allow_loopback lets a test server on the loopback through;
# one lookup per host and run. t/rdap-fixture.py serves on 127.0.0.1.
. "$(dirname "$0")/lib.sh"

tool=$TOP/t/unit/test-resolve-tool
if ! command -v python3 >/dev/null 2>&1; then
	say "Bail out! python3 is needed for the RDAP fixture server (make deps)"
	exit 1
fi

pids=
test_atexit 'for p in $pids; do kill "$p" 2>/dev/null; done'
python3 "$TOP/t/rdap-fixture.py" "$TOP/t/data/rdap" http.port http.log 2>http.err &
pids="$pids $!"
for i in $(seq 100); do test -s http.port && break; sleep 0.1; done
if ! test -s http.port; then
	say "Bail out! the RDAP fixture server did not start"
	exit 1
fi
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

# The library's own refusals, through test-resolve-tool.
test_expect_success 'a loopback RDAP server is refused without the switch, and not asked' '
	: >http.log &&
	expect_fail 69 "RDAP server .127\.0\.0\.1. refused: a loopback address" \
		93.184.216.34 "$base/nested" 2000 0 5 0 &&
	expect_fail 69 "refused: a loopback address" \
		93.184.216.34 "http://[::ffff:127.0.0.1]:$port/nested" 2000 0 5 0 &&
	expect_fail 69 "refused: a loopback address" \
		93.184.216.34 "http://localhost:$port/nested" 2000 0 5 0 &&
	test ! -s http.log
'
test_expect_success 'a looked-up host at a private or loopback address is refused' '
	expect_fail 65 "host .10\.1\.2\.3. is at a private address" 10.1.2.3 "$base/nested" &&
	expect_fail 65 "is at a loopback address" 127.0.0.1 "$base/nested" 2000 0 5 0 &&
	expect_fail 65 "is at a link-local address" ::ffff:169.254.169.254 "$base/nested"
'
for w in private:private linklocal:link-local multicast:multicast \
    mapped:private v6linklocal:link-local ula:private; do
	test_expect_success "a redirect to a ${w#*:} address is refused (goto-${w%%:*})" '
		: >http.log &&
		expect_fail 69 "refused: a ${w#*:} address" 93.184.216.34 "$base/goto-${w%%:*}" &&
		test "$(wc -l <http.log)" = 1
	'
done
test_expect_success 'a redirect to a public address on port 22 is refused' '
	expect_fail 69 "refused: port 22 is not 80 or 443" 93.184.216.34 "$base/goto-port"
'
test_expect_success 'one deadline for the whole lookup, redirects included' '
	: >http.log && start=$SECONDS &&
	expect_fail 75 "timed out" 93.184.216.34 "$base/slowredirect" 1000 &&
	test $((SECONDS - start)) -le 6 &&
	test "$(wc -l <http.log)" -le 5
'

# dz-notify over a store.
export DZ_NOW=2026-03-02T09:00:00Z
. "$TOP/t/lib-notice.sh"
notice_providers
write_config() {	# write_config SCENARIO [EXTRA NOTIFY LINES]
	cat >dz.yaml <<-EOF
	store: $TRASH/store
	master_key: $TRASH/master.key
	notify:
	  from: "Hotline test <notices@hotline.example>"
	  providers: $TRASH/providers.yaml
	  rdap: $base/$1
	${2-}
	EOF
}
write_config nested "  rdap_allow_loopback: true"
export DZ_CONFIG=$TRASH/dz.yaml
convert -size 64x64 gradient:red-blue a.png

submit() {	# submit ID URLS...: the case id
	local id=$1
	shift
	jq -cn --arg id "$id" '$ARGS.positional as $u |
		{type:"submission",submission:$id,age:30,urls:$u,files:["a.png"]}' \
		--args "$@" >sub.jsonl &&
	dz-ingest sub.jsonl >ack && jq -r .case ack
}
verdicts() {	# verdicts CASE N: each item judged illegal
	for i in $(seq "$2"); do
		printf '{"type":"verdict","item":"%s-%s","illegal":true,"category":"adult_ncii"}\n' "$1" "$i"
	done >v.jsonl
}

test_expect_success 'setup: a store, URLs on a host the directory does not know' '
	dz-ingest --init 2>/dev/null &&
	ca=$(submit s-1 http://127.0.0.1/a.jpg http://127.0.0.1/b.jpg) &&
	verdicts "$ca" 3 && dz-ingest v.jsonl >/dev/null &&
	cb=$(submit s-2 http://127.0.0.1/c.jpg) && echo "$cb" >cb
'
test_expect_success 'the switch is checked: a boolean' '
	write_config nested "  rdap_allow_loopback: yes" &&
	expect_exit 78 dz-notify --dry-run --resolve 2>err &&
	grep -q "rdap_allow_loopback: expected true or false" err &&
	write_config nested "  rdap_timeout: 0" &&
	expect_exit 78 dz-notify --dry-run --resolve 2>err &&
	grep -q "rdap_timeout: expected a whole number of seconds" err
'
test_expect_success 'without the switch, the loopback server is refused: unresolved' '
	write_config nested && : >http.log &&
	dz-notify --dry-run --resolve >out 2>err &&
	test "$(grep -c "^dz-notify: item .*loopback address" err)" = 2 &&
	! grep -q "^From " out && test ! -s http.log
'
test_expect_success 'one lookup per host and run: two URLs, one request' '
	write_config nested "  rdap_allow_loopback: true" && : >http.log &&
	dz-notify --dry-run --resolve >out 2>err &&
	test "$(grep -c "^To: abuse@hosting.example" out)" = 1 &&
	test "$(wc -l <http.log)" = 1
'
test_expect_success 'a verdict goes in while a lookup is stalled' '
	write_config hang "  rdap_allow_loopback: true
  rdap_timeout: 30" && : >http.log &&
	{ dz-notify --resolve >stalled.out 2>stalled.err & } &&
	npid=$! && pids="$pids $npid" &&
	for i in $(seq 100); do test -s http.log && break; sleep 0.1; done &&
	test -s http.log &&
	verdicts "$(cat cb)" 2 &&
	start=$SECONDS &&
	timeout 20 dz-ingest v.jsonl >vout 2>verr &&
	test $((SECONDS - start)) -le 3 &&
	jq -s -e "length == 2 and all(.type == \"ack\")" vout &&
	kill -0 "$npid" &&
	kill "$npid" && { wait "$npid"; true; }
'
test_expect_success 'the stalled run leaves the store usable: the next one notifies' '
	write_config nested "  rdap_allow_loopback: true" &&
	dz-notify --maildir md --resolve >out 2>err &&
	jq -s -e "map(select(.type == \"notice\" and .state == \"sent\")) | length == 1 and .[0].urls == 3" out
'

# The same class of fault: the operator's records of the plan were written
# while the planning transaction held the write lock, so a reader that does
# not keep up with standard output kept dz-ingest out.
test_expect_success 'a reader that does not keep up holds no write lock' '
	write_config nested "  rdap_allow_loopback: true" &&
	printf "limits: {max_urls: 1000}\n" >>dz.yaml &&
	urls=$(for i in $(seq 700); do echo "https://unknown-host.example/$i.jpg"; done) &&
	cw=$(submit s-many $urls) && verdicts "$cw" 700 && dz-ingest v.jsonl >/dev/null &&
	cx=$(submit s-late https://pix.example/late.jpg) &&
	mkfifo slow &&
	{ dz-notify --maildir md2 >slow 2>/dev/null & } && npid=$! && pids="$pids $npid" &&
	exec 3<slow && sleep 1 &&
	verdicts "$cx" 1 && start=$SECONDS &&
	timeout 20 dz-ingest v.jsonl >vout 2>verr &&
	test $((SECONDS - start)) -le 3 &&
	cat <&3 >/dev/null && exec 3<&- && wait "$npid"
'

test_done
