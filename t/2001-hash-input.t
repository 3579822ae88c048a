#!/bin/bash
# dz-hash: where inputs come from and what comes out.
. "$(dirname "$0")/lib.sh"
require_testdata
pdq=$TESTDATA/pdq
cp "$pdq/labelme-subset/q2821.jpg" a.jpg
cp "$pdq/misc/wee.jpg" b.jpg
cp "$pdq/modes/P.png" c.png
want_a=b150231ffae4710ffcf4f18bb574b109a576f14bb8543189f8743289f174b109

test_expect_success 'operands: one record per file, in order' '
	dz-hash a.jpg b.jpg c.png >out &&
	test $(wc -l <out) = 3 &&
	jq -r .path out >paths && printf "a.jpg\nb.jpg\nc.png\n" >expect &&
	test_cmp expect paths
'

test_expect_success 'the hash record has every field' '
	dz-hash a.jpg >out &&
	jq -e --arg h "$want_a" ".type == \"hash\" and .path == \"a.jpg\" and
		.format == \"jpeg\" and .width == 256 and .height == 256 and
		.pdq == \$h and .quality == 100 and
		(.md5 | test(\"^[0-9a-f]{32}$\")) and (.sha256 | test(\"^[0-9a-f]{64}$\"))" out
'

test_expect_success '"type" comes first in the record' '
	dz-hash a.jpg >out && cut -c1-14 out >got && echo "{\"type\":\"hash\"" >expect &&
	test_cmp expect got
'

test_expect_success 'md5 and sha256 are those of the file bytes' '
	dz-hash a.jpg >out &&
	test "$(jq -r .md5 out)" = "$(md5sum <a.jpg | cut -d" " -f1)" &&
	test "$(jq -r .sha256 out)" = "$(sha256sum <a.jpg | cut -d" " -f1)"
'

test_expect_success 'names one per line on stdin' '
	printf "a.jpg\nb.jpg\n" >list && dz-hash <list >out &&
	jq -r .path out >paths && printf "a.jpg\nb.jpg\n" >expect && test_cmp expect paths
'

test_expect_success '-0 with find -print0, a name with a newline in it' '
	mkdir d && cp a.jpg "d/new
line.jpg" && cp b.jpg "d/plain.jpg" &&
	find d -type f -print0 | sort -z >list0 && dz-hash -0 <list0 >out &&
	test $(wc -l <out) = 2 &&
	jq -se "any(.[]; .path == \"d/new\nline.jpg\" and .pdq == \"$want_a\")" out
'

test_expect_success '"-" hashes image bytes from stdin' '
	dz-hash - <a.jpg >out && jq -e ".path == \"-\" and .pdq == \"$want_a\"" out
'

test_expect_success 'a file name that is not UTF-8 keeps its bytes in path_hex' '
	cp a.jpg "$(printf "bad\377.jpg")" && dz-hash "$(printf "bad\377.jpg")" >out &&
	jq -e ".path == \"bad\ufffd.jpg\" and .path_hex == \"626164ff2e6a7067\"" out
'

test_expect_success '--records adds hashes and passes other records through' '
	printf "%s\n" "{\"type\":\"item\",\"id\":7,\"path\":\"a.jpg\"}" \
		"{\"type\":\"note\",\"text\":\"hello\"}" \
		"{\"type\":\"item\",\"id\":8,\"path\":\"c.png\",\"extra\":[1,2]}" >in.jsonl &&
	dz-hash --records <in.jsonl >out &&
	test $(wc -l <out) = 3 &&
	jq -se "any(.[]; .id == 7 and .type == \"item\" and .pdq == \"$want_a\")" out &&
	sed -n 2p out >got && sed -n 2p in.jsonl >expect && test_cmp expect got &&
	jq -se "any(.[]; .id == 8 and .extra == [1,2] and .format == \"png\")" out
'

test_expect_success '--records reads CRLF lines and files given as operands' '
	printf "{\"type\":\"item\",\"path\":\"a.jpg\"}\r\n" >crlf.jsonl &&
	dz-hash --records crlf.jsonl >out && jq -e ".pdq == \"$want_a\"" out
'

test_expect_success '--dihedral adds eight hashes, orig equal to pdq' '
	dz-hash --dihedral a.jpg >out &&
	jq -e ".pdq_dihedral | keys | length == 8" out &&
	jq -e ".pdq_dihedral.orig == .pdq" out
'

test_expect_success '--format csv prints hash,quality,filename' '
	dz-hash --format csv a.jpg >out && echo "$want_a,100,a.jpg" >expect &&
	test_cmp expect out
'

test_expect_success '-j 2 keeps the input order' '
	for i in $(seq 1 40); do
		case $((i % 3)) in 0) echo a.jpg;; 1) echo b.jpg;; 2) echo c.png;; esac
	done >list && dz-hash <list >one && dz-hash -j 2 <list >two && test_cmp one two
'

test_expect_success '--no-orient hashes the stored pixels' '
	cp "$pdq/exif-rotn/exif-rotn-6.jpg" r6.jpg &&
	dz-hash --exact r6.jpg >o && dz-hash --exact --no-orient r6.jpg >n &&
	jq -e ".width == 3024 and .height == 4032" o &&
	jq -e ".width == 4032 and .height == 3024" n &&
	test "$(jq -r .pdq o)" != "$(jq -r .pdq n)"
'

test_expect_success 'progress goes to stderr only when asked, never to stdout' '
	dz-hash --progress a.jpg b.jpg >out 2>err &&
	test $(wc -l <out) = 2 && grep -q "dz-hash: 2/2 files" err &&
	dz-hash a.jpg >out 2>err && test ! -s err
'

test_done
