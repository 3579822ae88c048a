#!/bin/bash
# dz-hash on videos: the vPDQ signature against the reference's sample
# hashes, the record, collapsing, skipping undecoded frames; and hostile
# files, each an error record, with strace showing that no other file was
# opened and no socket made: an HLS playlist, an ffconcat list, an MP4
# with an external data reference, an AVI carrying a playlist in a GAB2
# subtitle stream, a video claiming a huge frame size, an endless stream.
. "$(dirname "$0")/lib.sh"
require_testdata

V=$TESTDATA/vpdq
tool=$TOP/t/unit/test-vpdq-tool
mk=$TOP/t/mkhostile.py
for t in ffmpeg strace python3; do
	if ! command -v $t >/dev/null 2>&1; then
		say "Bail out! $t is not installed (run scripts/deps)"
		exit 1
	fi
done

test_expect_success 'every sample video: the signature is the reference'"'"'s -r 1, bit for bit' '
	for f in doorknob-hd-no-bar pattern-sd-grey-bar pattern-sd-with-small-logo-bar test-padded-dimensions; do
		"$tool" hash --all "$V/videos/$f.mp4" >got.$f 2>/dev/null &&
		test_cmp "$V/expected/this-machine-ffmpeg5.1-simd/$f-r1.txt" got.$f || return 1
	done
'

test_expect_success 'the same with every frame decoded' '
	for f in doorknob-hd-no-bar test-padded-dimensions; do
		"$tool" hash --all --no-skip "$V/videos/$f.mp4" >all.$f 2>err.$f &&
		test_cmp got.$f all.$f && grep -q "skipped 0 " err.$f || return 1
	done
'

test_expect_success 'frames no hash needs are not decoded' '
	"$tool" hash --all "$V/videos/doorknob-hd-no-bar.mp4" >/dev/null 2>err &&
	read _ decoded _ skipped _ <err && test "$skipped" -gt 0 &&
	test $((decoded + skipped)) = 120
'

test_expect_success 'every frame, against the reference'"'"'s every-frame file: within 31 where quality >= 50' '
	f=doorknob-hd-no-bar &&
	"$tool" hash --all --no-skip --seconds 0.001 "$V/videos/$f.mp4" >every 2>/dev/null &&
	test_cmp "$V/expected/this-machine-ffmpeg5.1-simd/$f.txt" every &&
	python3 - every "$V/expected/upstream/$f.txt" <<-EOF
	import sys
	a = {l.split(",")[0]: l.split(",") for l in open(sys.argv[1])}
	b = {l.split(",")[0]: l.split(",") for l in open(sys.argv[2])}
	assert set(a) == set(b)
	bad = [k for k in b if int(b[k][1]) >= 50 and
	       bin(int(a[k][2], 16) ^ int(b[k][2], 16)).count("1") > 31]
	sys.exit(1 if bad else 0)
	EOF
'

test_expect_success 'the record: format, codec, size, rate, duration, frames, vpdq, digests' '
	dz-hash "$V/videos/test-padded-dimensions.mp4" >rec &&
	jq -e ".type == \"hash\" and .format == \"mp4\" and .codec == \"h264\" and
		.width == 1080 and .height == 1080 and .fps == 30 and .frames == 150 and
		.duration == 4.967 and (.vpdq | length) == 5 and .vpdq[1][0] == 30 and
		.vpdq[1][1] == 1 and .vpdq[1][2] == 100 and (.pdq | not) and
		.md5 == \"$(md5sum <"$V/videos/test-padded-dimensions.mp4" | cut -c1-32)\"" rec &&
	jq -r ".vpdq[] | \"\(.[0]),\(.[2]),\(.[3])\"" rec >sig &&
	cut -d, -f1-3 "$V/expected/this-machine-ffmpeg5.1-simd/test-padded-dimensions-r1.txt" >want &&
	test_cmp want sig
'

test_expect_success 'a still scene collapses into one hash' '
	ffmpeg -v error -f lavfi -i "color=c=gray:size=64x64:rate=10,drawbox=x=8:y=8:w=20:h=30:c=white:t=fill" \
		-t 5 -c:v libx264 -pix_fmt yuv420p still.mp4 &&
	dz-hash still.mp4 >rec && jq -e "(.vpdq | length) == 1 and .frames == 50" rec &&
	"$tool" hash --all still.mp4 >all 2>/dev/null && test $(wc -l <all) = 5
'

test_expect_success 'videos in other containers and codecs' '
	ffmpeg -v error -f lavfi -i testsrc=size=96x64:rate=10 -t 3 -c:v libvpx -b:v 200k v.webm &&
	ffmpeg -v error -f lavfi -i testsrc=size=96x64:rate=10 -t 3 -c:v mjpeg v.avi &&
	ffmpeg -v error -f lavfi -i testsrc=size=96x64:rate=10 -t 3 -c:v mpeg2video v.ts &&
	dz-hash v.webm v.avi v.ts >rec &&
	jq -r "[.format, .codec, (.vpdq | length)] | @tsv" rec >got &&
	printf "matroska\tvp8\t3\nmsvideo\tmjpeg\t3\nmp2t\tmpeg2video\t3\n" >want && test_cmp want got
'

test_expect_success 'audio and subtitle streams are carried but never decoded' '
	printf "1\n00:00:00,000 --> 00:00:02,000\nhello\n" >s.srt &&
	ffmpeg -v error -f lavfi -i testsrc=size=96x64:rate=10 -t 3 -c:v libvpx -b:v 200k v-only.mkv &&
	ffmpeg -v error -i v-only.mkv -f lavfi -i sine=frequency=440:duration=3 -i s.srt \
		-map 0:v -map 1:a -map 2:s -c:v copy -c:a flac -c:s srt av.mkv &&
	ffprobe -v error -show_entries stream=codec_type -of csv=p=0 av.mkv >kinds &&
	printf "video\naudio\nsubtitle\n" >want && test_cmp want kinds &&
	dz-hash v-only.mkv av.mkv >rec &&
	jq -c .vpdq rec >sigs && test $(sort -u sigs | wc -l) = 1 &&
	jq -e -s "all(.[]; .codec == \"vp8\")" rec
'

test_expect_success 'csv: a line per hash of the signature' '
	dz-hash --format csv "$V/videos/test-padded-dimensions.mp4" >csv &&
	test $(wc -l <csv) = 5 && grep -q ",100,$V/videos/test-padded-dimensions.mp4$" csv
'

test_expect_success 'a truncated video, and a video header with nothing after it' '
	head -c 30000 "$V/videos/test-padded-dimensions.mp4" >cut.mp4 &&
	head -c 64 "$V/videos/test-padded-dimensions.mp4" >head.mp4 &&
	expect_exit 65 dz-hash cut.mp4 head.mp4 >out 2>err &&
	test $(jq -s "map(select(.type == \"error\")) | length" out) = 2
'

# hostile files, each read under strace: no other file, no socket
echo "secret data" >secret.mp4
cat >hls.m3u8 <<EOF
#EXTM3U
#EXT-X-MEDIA-SEQUENCE:0
#EXTINF:10.0,
file://$TRASH/secret.mp4
#EXT-X-ENDLIST
EOF
printf 'ffconcat version 1.0\nfile %s/secret.mp4\n' "$TRASH" >list.ffconcat
ffmpeg -v error -f lavfi -i testsrc=size=64x48:rate=10 -t 2 -c:v libx264 -pix_fmt yuv420p small.mp4
ffmpeg -v error -f lavfi -i testsrc=size=64x48:rate=10 -t 2 -c:v mjpeg small.avi
python3 "$mk" dref small.mp4 "$TRASH/secret.mp4" dref.mp4
python3 "$mk" gab2 small.avi hls.m3u8 gab2.avi
python3 "$mk" huge small.avi 60000 60000 huge.avi

# traced NAME FILE: dz-hash FILE under strace; what it opened and sockets
traced() {	# LeakSanitizer cannot run under ptrace: leaks are checked untraced
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	strace -f -qq -e trace=open,openat,socket,connect -o "trace.$1" \
		dz-hash "$2" >"out.$1" 2>"err.$1"
	echo $? >"rc.$1"
}
clean_trace() {	# clean_trace NAME: no secret opened, no socket
	! grep -q "secret" "trace.$1" && ! grep -q -e "socket(" -e "connect(" "trace.$1"
}

test_expect_success 'the harmless originals are hashed' '
	dz-hash small.mp4 small.avi >out && test $(jq -s "map(select(.vpdq)) | length" out) = 2
'

for h in hls.m3u8 list.ffconcat dref.mp4 gab2.avi huge.avi; do
	traced $h $h
	test_expect_success "$h: an error record; no other file opened, no socket" '
		test "$(cat rc.'$h')" = 65 &&
		jq -e ".type == \"error\" and .path == \"'$h'\"" out.'$h' &&
		clean_trace '$h'
	'
done

test_expect_success 'untraced too (leak checks run then): five error records, exit 65' '
	expect_exit 65 dz-hash hls.m3u8 list.ffconcat dref.mp4 gab2.avi huge.avi >out 2>err &&
	test $(jq -s "map(select(.type == \"error\")) | length" out) = 5
'

test_expect_success 'what they were refused for' '
	jq -e ".reason | test(\"open other files\")" out.dref.mp4 &&
	jq -e ".reason | test(\"unknown kind\")" out.gab2.avi &&
	jq -e ".reason | test(\"over the limit\")" out.huge.avi
'

test_expect_success 'the MP4 data reference is real: stock ffmpeg follows it when asked to' '
	strace -f -qq -e trace=openat -o trace.ffmpeg \
		ffmpeg -v quiet -enable_drefs 1 -i dref.mp4 -f null - ;
	grep -q "secret.mp4" trace.ffmpeg
'

test_expect_success 'an endless stream on standard input stops at --max-bytes' '
	ffmpeg -v quiet -f lavfi -i testsrc=size=64x48:rate=25 -c:v mpeg2video -f mpegts - 2>/dev/null |
		dz-hash --max-bytes 2000000 - >out 2>err
	test $? = 65 && jq -e ".type == \"error\" and (.reason | test(\"too large\"))" out
'

test_expect_success 'a video longer than --max-duration is refused' '
	ffmpeg -v error -f lavfi -i testsrc=size=32x32:rate=5 -t 30 -c:v mpeg2video long.ts &&
	expect_exit 65 dz-hash --max-duration 10 long.ts >out 2>err &&
	jq -e ".reason | test(\"longer than the limit of 10 s\")" out &&
	dz-hash --max-duration 60 long.ts >out && jq -e ".vpdq" out >/dev/null
'

test_expect_success 'usage: --max-duration needs a positive number' '
	expect_exit 64 dz-hash --max-duration 0 x 2>err &&
	expect_exit 64 dz-hash --max-duration x x 2>err
'

# Found by t/fuzz/video: frames decoded but none at a whole second gave
# "vpdq":[], a record dz-match --hashes refused as malformed.
test_expect_success 'a video with no frame at a whole second is an error, not an empty signature' '
	expect_exit 65 dz-hash "$TOP/t/data/fuzz/video/no-frame-at-a-whole-second.mkv" >out 2>err &&
	jq -e "select(.type == \"error\") | .reason == \"no frame of the video could be hashed\"" out &&
	grep -q "no frame of the video could be hashed" err
'

test_done
