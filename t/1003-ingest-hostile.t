#!/bin/bash
# dz-ingest --spool against a hostile form backend (issue 15): entries that
# are links, links and FIFOs inside entries, subdirectories, oversized or
# crowded entries, name collisions in rejected/, duplicate submissions that
# name files outside, and contact addresses the mailer would refuse. Each
# bad entry is rejected with a reason and the run goes on; nothing outside
# the spool is read, written or removed.
. "$(dirname "$0")/lib.sh"
require_testdata

printf 'store: %s/store\nmaster_key: %s/master.key\n' "$TRASH" "$TRASH" >dz.yaml
export DZ_CONFIG=$TRASH/dz.yaml
dz-ingest --init 2>/dev/null
cp "$TESTDATA/pdq/labelme-subset/q2821.jpg" a.jpg
cp "$TESTDATA/pdq/misc/c.png" b.png

# entry SPOOL NAME JSON [FILE...]: written under tmp/, renamed into new/.
entry() {
	local sp=$1 name=$2 json=$3
	shift 3
	mkdir -p "$sp/tmp" "$sp/new" && mkdir "$sp/tmp/$name" &&
	printf '%s\n' "$json" >"$sp/tmp/$name/submission.json" &&
	for f; do cp "$f" "$sp/tmp/$name/"; done &&
	mv "$sp/tmp/$name" "$sp/new/$name"
}
sub() { printf '{"submission":"%s","age":22,"files":["a.jpg"]}' "$1"; }
has() { jq -s -e "any(.[]; $2)" "$1" >/dev/null; }

test_expect_success 'setup: one submission in the store' '
	entry s0 001 "$(sub known-1)" a.jpg && dz-ingest --spool s0 >out 2>err
'

test_expect_success 'an entry that is a link to a directory is rejected, its target untouched (1)' '
	mkdir outside && cp a.jpg b.png outside/ && sub new-1 >outside/submission.json &&
	mkdir -p s1/new && ln -s "$TRASH/outside" s1/new/010 &&
	entry s1 011 "$(sub new-2)" a.jpg &&
	expect_exit 65 dz-ingest --spool s1 >out 2>err &&
	has out ".type == \"error\" and .spool == \"010\" and (.reason | test(\"not a directory\"))" &&
	has out ".type == \"ack\" and .spool == \"011\"" &&
	test -f outside/a.jpg && test -f outside/b.png && test -f outside/submission.json &&
	test ! -e s1/new/010 && test -L s1/rejected/010 && test -d outside
'
test_expect_success 'a link entry whose submission is a duplicate deletes nothing either (1)' '
	mkdir outside2 && cp a.jpg outside2/ && sub known-1 >outside2/submission.json &&
	mkdir -p s2/new && ln -s "$TRASH/outside2" s2/new/020 &&
	expect_exit 65 dz-ingest --spool s2 >out 2>err &&
	test -f outside2/a.jpg && test -f outside2/submission.json
'
test_expect_success 'an error.json link in a rejected entry is not followed (2)' '
	echo keep >target && entry s3 030 "{\"submission\":\"bad-3\",\"age\":22}" &&
	ln -s "$TRASH/target" s3/new/030/error.json &&
	entry s3 031 "{\"submission\":\"bad-4\",\"age\":22}" &&
	ln -s "$TRASH/created-by-link" s3/new/031/error.json &&
	expect_exit 65 dz-ingest --spool s3 >out 2>err &&
	echo keep >expect && test_cmp expect target && test ! -e created-by-link &&
	test -f s3/rejected/030/error.json && test ! -L s3/rejected/030/error.json &&
	jq -e .reason s3/rejected/030/error.json && test ! -L s3/rejected/031/error.json
'
test_expect_success 'a FIFO as submission.json is rejected without blocking (3)' '
	mkdir -p s4/new/040 && mkfifo s4/new/040/submission.json &&
	entry s4 041 "$(sub new-4)" a.jpg &&
	expect_exit 65 timeout 30 dz-ingest --spool s4 >out 2>err &&
	has out ".type == \"error\" and .spool == \"040\"" &&
	has out ".type == \"ack\" and .spool == \"041\"" &&
	test -p s4/rejected/040/submission.json
'
test_expect_success 'a FIFO as an upload is rejected without blocking (3)' '
	mkdir -p s5/new/050 && sub new-5 >s5/new/050/submission.json && mkfifo s5/new/050/a.jpg &&
	expect_exit 65 timeout 30 dz-ingest --spool s5 >out 2>err && test -d s5/rejected/050 &&
	has out ".spool == \"050\" and (.reason | test(\"FIFO\"))"
'
test_expect_success 'a FIFO the submission does not name rejects the entry too (3)' '
	entry s5 051 "$(sub new-51)" a.jpg && mkfifo s5/new/051/extra &&
	expect_exit 65 timeout 30 dz-ingest --spool s5 >out 2>err &&
	has out ".spool == \"051\" and (.reason | test(\"FIFO\"))" && test -p s5/rejected/051/extra
'
test_expect_success '--remove-files: a duplicate deletes nothing the first run would refuse to read (4)' '
	mkdir up && cp a.jpg up/a.jpg &&
	printf "%s\n" "{\"type\":\"submission\",\"submission\":\"rf-1\",\"age\":22,\"files\":[\"up/a.jpg\"]}" >r1.jsonl &&
	dz-ingest --remove-files r1.jsonl >out && test ! -e up/a.jpg &&
	echo precious >precious.txt && mkdir precious.d && mkfifo precious.fifo && cp a.jpg up/left.jpg &&
	jq -cn --arg t "$TRASH" "{type:\"submission\",submission:\"rf-1\",age:22,
	    files:[(\$t+\"/precious.txt\"),\"../$(basename "$TRASH")/precious.txt\",\"precious.d\",\"precious.fifo\",\"up/left.jpg\"]}" >r2.jsonl &&
	timeout 30 dz-ingest --remove-files r2.jsonl >out 2>err &&
	jq -e ".duplicate == true" out &&
	test -f precious.txt && test -d precious.d && test -p precious.fifo &&
	test ! -e up/left.jpg
'
test_expect_success 'a submission.json over its limit is rejected with a reason (5)' '
	mkdir -p s6/tmp/060 && {
		printf "{\"submission\":\"big-1\",\"age\":22,\"urls\":[\"https://x.example/a\"],\"pad\":\""
		head -c 2000000 /dev/zero | tr "\0" x
		printf "\"}\n"
	} >s6/tmp/060/submission.json && mkdir s6/new && mv s6/tmp/060 s6/new/060 &&
	entry s6 061 "$(sub new-6)" a.jpg &&
	expect_exit 65 dz-ingest --spool s6 >out 2>err &&
	has out ".spool == \"060\" and (.reason | test(\"too large\"))" &&
	has out ".type == \"ack\" and .spool == \"061\""
'
test_expect_success 'an entry holding a subdirectory is rejected whole, the run goes on (7)' '
	entry s7 070 "$(sub new-7)" a.jpg && mkdir s7/new/070/sub && cp b.png s7/new/070/sub/ &&
	entry s7 071 "$(sub new-8)" a.jpg &&
	expect_exit 65 dz-ingest --spool s7 >out 2>err &&
	has out ".spool == \"070\" and (.reason | test(\"subdirectory\"))" &&
	has out ".type == \"ack\" and .spool == \"071\"" &&
	test ! -e s7/new/070 && test -f s7/rejected/070/sub/b.png
'
test_expect_success 'a name already in rejected/ gets a unique suffix, the run goes on (9)' '
	mkdir -p s8/rejected/080 && echo old >s8/rejected/080/error.json &&
	entry s8 080 "{\"submission\":\"bad-8\",\"age\":22}" &&
	entry s8 081 "$(sub new-9)" a.jpg &&
	expect_exit 65 dz-ingest --spool s8 >out 2>err &&
	has out ".type == \"ack\" and .spool == \"081\"" &&
	test ! -e s8/new/080 && echo old >expect && test_cmp expect s8/rejected/080/error.json &&
	test $(ls s8/rejected | grep -c "^080") = 2 &&
	jq -e .reason s8/rejected/080.1/error.json
'
test_expect_success 'an entry that cannot be moved to rejected/ is kept and said; the run goes on, exit non-zero' '
	mkdir -p victim &&
	entry s10 100 "{\"submission\":\"bad-10\",\"age\":22}" &&
	entry s10 101 "$(sub new-101)" a.jpg &&
	ln -s "$TRASH/victim" s10/rejected &&
	expect_exit 73 dz-ingest --spool s10 >out 2>err &&
	has out ".type == \"error\" and .spool == \"100\" and .kept == true" &&
	has out ".type == \"ack\" and .spool == \"101\"" &&
	test -d s10/new/100 && test ! -e s10/new/101 && test -z "$(ls victim)" &&
	grep -q "spool entry .100." err && grep -q "1 spool entry left in new/" err
'
# hold FILE SECONDS STATE: hold a write lease on FILE, as its writer may;
# "held" or "nolease" in STATE once known.
cat >hold.py <<\EOF
import fcntl, os, signal, sys, time
signal.signal(signal.SIGIO, signal.SIG_IGN)
st = open(sys.argv[3], "w")
try:
    fd = os.open(sys.argv[1], os.O_RDWR)
    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
except OSError:
    st.write("nolease\n"); st.close(); sys.exit(0)
st.write("held\n"); st.close()
time.sleep(float(sys.argv[2]))
EOF
hold() {
	python3 hold.py "$1" "$2" "$3" &
	for i in $(seq 50); do test -s "$3" && break; sleep 0.1; done
	grep -q held "$3"
}
echo probe >lease-probe
if hold lease-probe 0.1 lease-probe.state; then
test_expect_success 'an upload its writer holds a lease on is rejected; the run goes on' '
	entry s11 110 "$(sub new-110)" a.jpg && entry s11 111 "$(sub new-111)" a.jpg &&
	hold s11/new/110/a.jpg 20 lease.state && lease=$! &&
	test_when_finished "kill $lease 2>/dev/null || :" &&
	expect_exit 65 timeout 30 dz-ingest --spool s11 >out 2>err &&
	has out ".type == \"error\" and .spool == \"110\" and (.reason | test(\"unavailable\"))" &&
	has out ".type == \"ack\" and .spool == \"111\"" && test -d s11/rejected/110
'
else
	skip 'no file leases here'
fi
test_expect_success 'an entry with more files than the limit is rejected (limits)' '
	entry s9 090 "$(sub new-10)" a.jpg &&
	for i in $(seq 1 101); do echo x >s9/new/090/f$i; done &&
	expect_exit 65 dz-ingest --spool s9 >out 2>err &&
	has out ".spool == \"090\" and (.reason | test(\"too many\"))"
'
test_expect_success 'a contact address the mailer refuses is refused at intake (11)' '
	for a in a..b@example.org "x@[127.0.0.1]" .a@example.org "a@-x.example" "\"q\"@example.org"; do
		jq -cn --arg a "$a" "{type:\"submission\",submission:\"c-1\",age:22,followup:true,
		    urls:[\"https://x.example/c\"],contact:{email:\$a}}" >c.jsonl &&
		expect_exit 65 dz-ingest c.jsonl >out 2>err &&
		jq -e ".reason | test(\"e-mail\")" out || return 1
	done &&
	jq -cn "{type:\"submission\",submission:\"c-2\",age:22,followup:true,
	    urls:[\"https://x.example/c\"],contact:{email:\"a.b+c@mail.example.org\"}}" >c.jsonl &&
	dz-ingest c.jsonl >out
'
test_expect_success 'nothing outside the spools was removed' '
	test -f a.jpg && test -f b.png && test -f target && test -f precious.txt
'
test_done
