#!/bin/bash
# dz-hash on bad input: one error record per bad file naming it and the
# reason, the good files still hashed, exit status 65, never a crash.
. "$(dirname "$0")/lib.sh"
require_testdata
pdq=$TESTDATA/pdq
cp "$pdq/labelme-subset/q2821.jpg" good.jpg
: >empty.jpg
head -c 6000 "$pdq/labelme-subset/q2821.jpg" >trunc.jpg
head -c 300000 "$pdq/misc/c.png" >trunc.png
{ printf 'R'; head -c 4095 /dev/urandom; } >random.bin
printf 'this is a text file, not an image\n' >text.jpg
"$TOP/t/mkbad.pl" png-huge huge.png
"$TOP/t/mkbad.pl" png-bomb bomb.png
"$TOP/t/mkbad.pl" jpeg-scans scans.jpg "$pdq/pnm/crop-64x64.ppm"
# stray markers in the entropy-coded data: libjpeg only warns
{ head -c 3000 good.jpg; printf '\377\325\377\322'; tail -c +3005 good.jpg; } >corrupt.jpg
mkdir adir

# check_bad FILE PATTERN: hashing good.jpg FILE good.jpg gives two hash
# records around one error record for FILE whose reason matches PATTERN.
check_bad() {
	local f=$1 pat=$2
	test_expect_success "bad input '$f': error record, others hashed, exit 65" '
		expect_exit 65 dz-hash good.jpg "$f" good.jpg >out 2>err &&
		jq -r .type out | tr "\n" " " >types && printf "hash error hash " >expect &&
		test_cmp expect types &&
		jq -se --arg f "$f" --arg p "$pat" "any(.[]; .type == \"error\" and
			.program == \"dz-hash\" and .path == \$f and (.reason | test(\$p)))" out &&
		grep -q "^dz-hash: cannot hash '\''$f'\'': " err
	'
}

check_bad empty.jpg 'empty'
check_bad trunc.jpg 'truncated|premature|corrupt'
check_bad trunc.png 'truncated|corrupt'
check_bad random.bin 'not a supported image'
check_bad text.jpg 'not a supported image'
check_bad huge.png 'too large|limit'
check_bad bomb.png 'too large|limit'
check_bad scans.jpg 'more than 100 scans'
test_expect_success 'the 2080-scan JPEG is valid: djpeg decodes it' '
	djpeg -outfile scans.ppm scans.jpg 2>err && test ! -s err
'
check_bad corrupt.jpg 'corrupt'
check_bad adir 'directory'
check_bad missing.jpg 'cannot open|No such file'

test_expect_success 'a file that cannot be read' '
	cp good.jpg secret.jpg && chmod 000 secret.jpg &&
	if [ "$(id -u)" = 0 ]; then
		chmod 755 . && run="setpriv --reuid=nobody --regid=nogroup --clear-groups"
	else
		run=
	fi &&
	expect_exit 65 $run dz-hash secret.jpg >out 2>err &&
	jq -e ".type == \"error\" and (.reason | test(\"Permission denied\"))" out
'

test_expect_success 'a name with a newline (-0) is reported intact' '
	printf "x" >"bad
name.jpg" && printf "good.jpg\0bad\nname.jpg\0" >list &&
	expect_exit 65 dz-hash -0 <list >out 2>err &&
	jq -se "any(.[]; .type == \"error\" and .path == \"bad\nname.jpg\")" out
'

test_expect_success 'errors carry no file content' '
	printf "SECRET-CONTENT-%s\n" 1 2 3 >leak.jpg &&
	expect_exit 65 dz-hash leak.jpg >out 2>err &&
	! grep -q SECRET out && ! grep -q SECRET err
'

test_expect_success '--max-bytes refuses a larger file' '
	expect_exit 65 dz-hash --max-bytes 1000 good.jpg >out 2>err &&
	jq -e ".reason | test(\"too large\")" out
'

test_expect_success '--max-pixels refuses a larger image' '
	expect_exit 65 dz-hash --max-pixels 60000 good.jpg >out 2>err &&
	jq -e ".reason | test(\"limit\")" out
'

test_expect_success 'a 90-megapixel bomb under the limit decodes in bounded memory' '
	"$TOP/t/mkbad.pl" png-bomb-ok bomb-ok.png &&
	if [ -n "${DZ_SANITIZE:-}" ]; then run=; else run="ulimit -v 300000;"; fi &&
	(eval "$run" dz-hash bomb-ok.png) >out &&
	jq -e ".width == 10000 and .height == 9000 and .quality == 0" out
'

test_expect_success '--records: a bad line becomes an error record with its number' '
	printf "%s\n" "{\"type\":\"item\",\"path\":\"good.jpg\"}" "not json" \
		"{\"type\":\"item\",\"path\":\"empty.jpg\",\"id\":3}" "[1,2]" >in.jsonl &&
	expect_exit 65 dz-hash --records in.jsonl >out 2>err &&
	jq -r ".type" out | tr "\n" " " >types && printf "item error error error " >expect &&
	test_cmp expect types &&
	jq -se "any(.[]; .line == 2 and .type == \"error\")" out &&
	jq -se "any(.[]; .line == 3 and .record.id == 3 and .path == \"empty.jpg\")" out
'

test_done
