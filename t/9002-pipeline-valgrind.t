#!/bin/bash
# The whole hotline cycle with every program under valgrind (memcheck):
# a report with an image, a video and a URL; verdicts; dz-hash --store;
# takedown notices; a signed bank; a partner matching an image and a
# video; the case closed, the victim answered, retention applied. Any
# invalid read or write, use of uninitialised memory, or definite or
# indirect leak fails the program (exit 99) and the test.
# slow: the whole cycle under valgrind (make check-quick leaves it out)
. "$(dirname "$0")/lib.sh"
require_testdata

if [ -n "${DZ_SANITIZE:-}" ]; then
	skip "valgrind cannot run AddressSanitizer builds (make check without SANITIZE=1 runs it)"
	test_done
fi
if ! command -v valgrind >/dev/null 2>&1; then
	say "Bail out! valgrind is not installed (run scripts/deps)"
	exit 1
fi

export DZ_NOW=2026-03-02T09:00:00Z
store_config notify export match &&
echo "retention: {personal_data_days: 14}" >>dz.yaml || exit 1
cp "$TESTDATA/pdq/labelme-subset/q2821.jpg" a.jpg
cp "$TESTDATA/vpdq/videos/test-padded-dimensions.mp4" v.mp4
convert -size 96x96 gradient:red-blue b.png
convert a.jpg -resize 70% -quality 80 upload.jpg

# libavcodec loads libjxl, which loads libhwy, whose static initialiser
# measures its timer with RDTSCP. valgrind 3.19 announces RDTSCP in the
# CPUID it emulates but cannot run it on a CPU without it (SIGILL before
# main). A stand-in for that one function, preloaded, lets dz-hash and
# dz-match run under valgrind; decoding never calls it.
cat >hwyshim.c <<'EOF'
#include <stdint.h>
uint64_t _ZN3hwy8platform15TimerResolutionEv(void);
uint64_t _ZN3hwy8platform15TimerResolutionEv(void) { return 1; }
EOF
${CC:-cc} -shared -fPIC -O2 -o hwyshim.so hwyshim.c || say "Bail out! cannot build hwyshim.so"

# vg PROGRAM ARGS...: run under memcheck; each process logs to vg.PID.log
vg() {
	LD_PRELOAD=$TRASH/hwyshim.so valgrind -q --error-exitcode=99 --leak-check=full \
		--show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect \
		--log-file="$TRASH/vg.%p.log" "$@"
}
# vg_clean: no valgrind report anywhere so far
vg_clean() {
	local f bad=0
	for f in "$TRASH"/vg.*.log; do
		[ -s "$f" ] || continue
		echo "== $f" && head -n 40 "$f"
		bad=1
	done
	return $bad
}

test_expect_success 'ingest a report (image, video, URL, contact) and the verdicts' '
	vg dz-ingest --init 2>err &&
	jq -cn "{type:\"submission\",submission:\"s-1\",age:27,followup:true,
		contact:{email:\"victim@example.org\"},description:\"canary-9f2e\",
		urls:[\"https://pix.example/p/1\"],files:[\"a.jpg\",\"v.mp4\",\"b.png\"],
		language:\"fr\"}" >sub.jsonl &&
	vg dz-ingest sub.jsonl >ack &&
	c=$(jq -r .case ack) && echo $c >case &&
	for i in 1 2 3 4; do
		echo "{\"type\":\"verdict\",\"item\":\"$c-$i\",\"illegal\":true,\"category\":\"adult_ncii\"}"
	done >v.jsonl &&
	vg dz-ingest v.jsonl >acks && test $(wc -l <acks) = 4 && vg_clean
'
c=$(cat case 2>/dev/null)

test_expect_success 'dz-hash --store: the image, the video, the PNG hashed' '
	vg dz-hash --store >hashes.jsonl &&
	test $(jq -s "map(select(.type == \"hash\")) | length" hashes.jsonl) = 3 &&
	jq -e -s "map(select(.vpdq)) | length == 1" hashes.jsonl && vg_clean
'

test_expect_success 'dz-notify: the takedown notice into a Maildir' '
	vg dz-notify --maildir outbox >notices.jsonl &&
	test $(ls outbox/new | wc -l) = 1 && vg_clean
'

test_expect_success 'dz-export: a key pair, a signed bank in two formats' '
	vg dz-export keygen 2>/dev/null &&
	vg dz-export bank -o full.dzb -o full.jsonl >rec &&
	jq -e ".seq == 1" rec && vg_clean
'

test_expect_success 'dz-match at a partner: an edited image and the video' '
	expect_exit 0 vg dz-match --no-state --bank full.dzb upload.jpg v.mp4 >m &&
	jq -e -s "length == 3" m &&
	expect_exit 0 vg dz-match --no-state --bank full.jsonl --hashes hashes.jsonl >m2 &&
	vg dz-match --state st --verify-only --bank full.dzb && vg_clean
'

test_expect_success 'the case closed, the victim answered, retention applied' '
	echo "{\"type\":\"close\",\"case\":\"$c\"}" | vg dz-ingest >/dev/null &&
	vg dz-notify --maildir outbox >answers.jsonl &&
	test $(ls outbox/new | wc -l) = 2 &&
	DZ_NOW=2026-03-20T09:00:00Z vg dz-purge >purged.jsonl &&
	jq -e -s "map(select(.type == \"purged\" or .type == \"purge\")) | length > 0" purged.jsonl &&
	vg dz-export items >items.jsonl && vg_clean
'

test_done
