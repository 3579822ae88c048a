#!/bin/bash
# Videos end to end: judged illegal, hashed from the store into MD5,
# SHA-256 and vPDQ, exported in the three bank formats, matched by
# dz-match: the same file (vPDQ and MD5), a re-encode and a variant with
# a logo (vPDQ), a clip (the bank share), a frame posted as an image, a
# bank image inside a video; --hashes agrees with media; a withdrawal
# removes the whole video; malformed video records are refused.
. "$(dirname "$0")/lib.sh"
require_testdata
for t in ffmpeg jq; do
	if ! command -v $t >/dev/null 2>&1; then
		say "Bail out! $t is not installed (run scripts/deps)"
		exit 1
	fi
done

V=$TESTDATA/vpdq/videos
store_config export match
cp "$V/pattern-sd-grey-bar.mp4" grey.mp4
cp "$V/doorknob-hd-no-bar.mp4" door.mp4
cp "$TESTDATA/pdq/labelme-subset/q2821.jpg" a.jpg
ff() { ffmpeg -nostdin -loglevel error -y "$@"; }

test_expect_success 'setup: two videos and an image judged illegal, hashed, media destroyed' '
	dz-ingest --init 2>/dev/null && dz-export keygen 2>/dev/null &&
	echo "{\"type\":\"submission\",\"submission\":\"s-1\",\"age\":30,\"files\":[\"grey.mp4\",\"a.jpg\",\"door.mp4\"]}" >sub.jsonl &&
	dz-ingest sub.jsonl >acks && c=$(jq -r .case acks) &&
	for i in 1 2 3; do
		echo "{\"type\":\"verdict\",\"item\":\"$c-$i\",\"illegal\":true,\"category\":\"adult_ncii\"}"
	done >v.jsonl &&
	dz-ingest v.jsonl >/dev/null &&
	dz-hash --store >hashes.jsonl &&
	test $(jq -s length hashes.jsonl) = 3 &&
	test "$(ls store/blobs | wc -l)" = 0
'
c=$(jq -r .case acks 2>/dev/null)

test_expect_success 'a video record: vPDQ, MD5, SHA-256 and the two entries' '
	jq -e -s ".[] | select(.item == \"$c-1\") | .format == \"mp4\" and .codec == \"h264\"
		and (.vpdq | length) == 7 and (.md5 | length) == 32 and
		(.sha256 | length) == 64 and (.entry | length) == 32 and
		(.md5_entry | length) == 32 and .entry != .md5_entry" hashes.jsonl &&
	dz-hash grey.mp4 >plain.jsonl &&
	jq -c .vpdq plain.jsonl >want && jq -c "select(.item == \"$c-1\") | .vpdq" hashes.jsonl >got &&
	test_cmp want got
'

test_expect_success 'the store keeps the signature; nothing of the media is left' '
	sqlite3 store/store.db "SELECT signal FROM hashes WHERE item_id = '"'"'$c-1'"'"' ORDER BY signal" >sig &&
	printf "sha256\nvideo_md5\nvpdq\n" >want && test_cmp want sig &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM items WHERE media_key IS NOT NULL")" = 0
'

test_expect_success 'a full export carries each video as MD5 and one vPDQ row per frame' '
	dz-export bank -o full.jsonl -o full.dzb -o full.csv >rec &&
	n=$(jq -s "[.[] | select(.vpdq) | .vpdq[] | select(.[2] >= 50)] | length + 3" hashes.jsonl) &&
	jq -e ".entries == $n and .withdrawals == 0" rec &&
	md5=$(jq -r "select(.item == \"$c-1\") | .md5" hashes.jsonl) &&
	id=$(jq -r "select(.item == \"$c-1\") | .entry" hashes.jsonl) &&
	jq "select(.type == \"entry\" and .signal == \"md5\") | .value" full.jsonl >md5s &&
	grep -q "\"$md5\"" md5s && test $(wc -l <md5s) = 2 &&
	jq -r "select(.id == \"$id\") | .value" full.jsonl >frames &&
	jq -r "select(.item == \"$c-1\") | .vpdq[] | .[3]" hashes.jsonl >want &&
	test_cmp want frames &&
	grep -q "^video_md5,$md5,disrupt,POSITIVE_CLASS," full.csv &&
	test $(grep -c "^vpdq,.*dz:id=$id " full.csv) = 7
'

for f in jsonl dzb csv; do
test_expect_success "$f: the same video matches by vPDQ and by MD5" '
	expect_exit 0 dz-match --no-state --bank full.'$f' grey.mp4 >m &&
	jq -e -s "length == 2 and (map(.signal) | sort) == [\"video_md5\", \"vpdq\"] and
		(.[] | select(.signal == \"vpdq\") | .query_match_pct == 100 and
		.bank_match_pct == 100 and .distance == 0)" m
'
done

test_expect_success 'a re-encode at half size matches by vPDQ only' '
	ff -i grey.mp4 -vf scale=240:360 -c:v libx264 -crf 35 -an re.mp4 &&
	expect_exit 0 dz-match --no-state --bank full.dzb re.mp4 >m &&
	jq -e -s "length == 1 and .[0].signal == \"vpdq\" and .[0].query_match_pct >= 80" m
'

test_expect_success 'the same pattern with a logo matches; another video does not' '
	expect_exit 0 dz-match --no-state --bank full.dzb "$V/pattern-sd-with-small-logo-bar.mp4" >m &&
	jq -e -s "length == 1 and .[0].signal == \"vpdq\"" m &&
	expect_exit 1 dz-match --no-state --bank full.dzb "$V/test-padded-dimensions.mp4" >m &&
	test ! -s m
'

test_expect_success 'a clip: the query share is met, the bank share is not; the thresholds decide' '
	ff -i grey.mp4 -t 3 -c:v libx264 -an half.mp4 &&
	expect_exit 0 dz-match --no-state --bank full.dzb half.mp4 >m &&
	jq -e -s "length == 1 and .[0].query_match_pct == 100 and .[0].bank_match_pct < 60" m &&
	expect_exit 1 dz-match --no-state --vpdq-bank-pct 80 --bank full.dzb half.mp4 >m &&
	test ! -s m &&
	expect_exit 0 dz-match --no-state --vpdq-query-pct 100 --bank full.dzb half.mp4 >m &&
	expect_exit 64 dz-match --no-state --vpdq-query-pct 101 --bank full.dzb half.mp4 2>err &&
	grep -q "percentage" err &&
	expect_exit 64 dz-match --no-state --vpdq-bank-pct x --bank full.dzb half.mp4 2>err
'

test_expect_success 'a frame of a bank video posted as an image' '
	ff -ss 3 -i grey.mp4 -frames:v 1 frame.png &&
	expect_exit 0 dz-match --no-state --bank full.dzb frame.png >m &&
	jq -e -s "length == 1 and .[0].signal == \"vpdq\" and .[0].bank_frame == 3 and
		.[0].distance <= 31" m
'

test_expect_success 'a bank image inside a video, with the frame and time it is at' '
	ff -f lavfi -i color=c=black:s=640x480:r=10:d=2 -loop 1 -t 3 -r 10 -i a.jpg \
		-filter_complex "[1:v]scale=640:480,setsar=1[s];[0:v][s]concat=n=2:v=1[v]" \
		-map "[v]" -pix_fmt yuv420p -c:v libx264 still.mp4 &&
	expect_exit 0 dz-match --no-state --bank full.dzb still.mp4 >m &&
	jq -e -s "length == 1 and .[0].signal == \"pdq\" and .[0].frame == 20 and
		.[0].timestamp == 2 and .[0].quality >= 50" m
'

test_expect_success '--hashes on dz-hash records finds what media matching finds' '
	dz-hash grey.mp4 re.mp4 still.mp4 frame.png >h.jsonl &&
	dz-match --no-state --bank full.dzb grey.mp4 re.mp4 still.mp4 frame.png >media.out &&
	dz-match --no-state --bank full.dzb --hashes h.jsonl >hashes.out &&
	test_cmp media.out hashes.out &&
	test $(wc -l <media.out) = 5 &&
	dz-match --no-state --brute --bank full.dzb --hashes h.jsonl >brute.out &&
	test_cmp media.out brute.out
'

test_expect_success 'a video record without its MD5 is matched by vPDQ alone' '
	jq -c "select(.path == \"grey.mp4\") | del(.md5)" h.jsonl >nomd5.jsonl &&
	expect_exit 0 dz-match --no-state --bank full.dzb --hashes nomd5.jsonl >m &&
	jq -e -s "length == 1 and .[0].signal == \"vpdq\"" m
'

test_expect_success 'malformed video records: an error record each, exit 65' '
	g=$(jq -c "select(.path == \"grey.mp4\")" h.jsonl) &&
	{ echo "$g" | jq -c ".vpdq = []"
	  echo "$g" | jq -c ".vpdq = \"x\""
	  echo "$g" | jq -c ".vpdq[0][3] = \"zz\""
	  echo "$g" | jq -c ".vpdq[0][2] = 101"
	  echo "$g" | jq -c ".vpdq[1] = [1, 2]"
	  echo "$g" | jq -c ".md5 = \"abc\""
	  echo "$g" | jq -c ".md5 = 5"
	} >bad.jsonl &&
	expect_exit 65 dz-match --no-state --bank full.dzb --hashes bad.jsonl >out 2>err &&
	test $(jq -s "[.[] | select(.type == \"error\")] | length" out) = 7 &&
	jq -e -s "all(.[]; .type == \"error\" and (.line | type) == \"number\")" out
'

test_expect_success 'a corrupt or truncated video as media: an error record' '
	head -c 20000 grey.mp4 >trunc.mp4 &&
	{ head -c 4096 grey.mp4; head -c 200000 /dev/urandom; } >corrupt.mp4 &&
	expect_exit 65 dz-match --no-state --bank full.dzb trunc.mp4 corrupt.mp4 grey.mp4 >out 2>err &&
	jq -e -s "[.[] | select(.type == \"error\")] | length == 2" out &&
	jq -e -s "[.[] | select(.type == \"match\")] | length == 2" out
'

test_expect_success 'a withdrawn video is gone from every format; the image stays' '
	echo "{\"type\":\"verdict\",\"item\":\"$c-1\",\"illegal\":false}" | dz-ingest >/dev/null &&
	dz-export bank --since last -o d2.jsonl -o d2.dzb -o d2.csv >rec &&
	jq -e ".entries == 0 and .withdrawals == 2" rec &&
	for f in jsonl dzb csv; do
		expect_exit 0 dz-match --no-state --bank full.$f --bank d2.$f grey.mp4 frame.png still.mp4 door.mp4 >m.$f &&
		jq -e -s "length == 3 and all(.[]; .path == \"still.mp4\" or .path == \"door.mp4\")" m.$f || return 1
	done
'

test_done
