#!/bin/bash
# dz-match on images: hashed in-process as dz-hash does, against a bank
# made from dz-hash's own output; rotated and mirrored copies match only
# with --dihedral; name lists, odd names, failed inputs, -j, progress.
. "$(dirname "$0")/lib.sh"

export XDG_STATE_HOME=$TRASH/xdg
: >dz.yaml
export DZ_CONFIG=$TRASH/dz.yaml

if ! command -v minisign >/dev/null 2>&1 || ! command -v convert >/dev/null 2>&1; then
	say "Bail out! minisign or ImageMagick is not installed (run scripts/deps)"
	exit 1
fi

# Synthetic images only: ImageMagick's plasma with fixed seeds, blurred so
# that the dihedral hashes of a rotated copy come within a few bits (they
# are exact only up to the PDQ filter's own asymmetry, which matters most
# on small, busy images).
test_expect_success 'setup: images, and a signed bank from their dz-hash records' '
	convert -seed 1 -size 800x600 plasma: -blur 0x4 a.png &&
	convert -seed 2 -size 600x700 plasma: -blur 0x4 b.png &&
	convert -seed 3 -size 800x600 plasma: -blur 0x4 c.png &&
	convert a.png -quality 85 a.jpg &&
	convert a.png -rotate 90 r.png &&
	convert a.png -flop m.png &&
	convert -size 64x64 xc:gray50 flat.png &&
	dz-hash a.png b.png flat.png >hashes.jsonl &&
	jq -r "\"+ auto \(.pdq) \(.quality) adult_ncii\"" hashes.jsonl >bank.spec &&
	test-bank-tool build --seed 5 bank.dzb <bank.spec &&
	minisign -G -W -p pub -s sec >/dev/null &&
	minisign -S -s sec -m bank.dzb -t "$(test-bank-tool comment bank.dzb)" >/dev/null &&
	printf "match:\n  public_key: %s\n" "$TRASH/pub" >dz.yaml
'

test_expect_success 'images as operands: one match record each, in input order' '
	dz-match --bank bank.dzb a.png c.png b.png a.jpg >out &&
	jq -r "[.path, .distance, .quality, .bank] | @tsv" out >got &&
	printf "a.png\t0\t%s\tbank.dzb\n" "$(jq -r "select(.path == \"a.png\") | .quality" hashes.jsonl)" >expect &&
	printf "b.png\t0\t%s\tbank.dzb\n" "$(jq -r "select(.path == \"b.png\") | .quality" hashes.jsonl)" >>expect &&
	head -2 got >got2 && test_cmp expect got2 &&
	sed -n 3p out | jq -e ".path == \"a.jpg\" and .distance <= 31" &&
	test $(wc -l <out) = 3
'

test_expect_success 'the entry matched is the one built from the hash' '
	dz-match --bank bank.dzb a.png >out &&
	want=$(jq -r "select(.path == \"a.png\") | .pdq" hashes.jsonl) &&
	dz-match --bank bank.dzb --hashes hashes.jsonl >byhash &&
	jq -r "select(.path == \"a.png\") | .entry" byhash >expect &&
	jq -r .entry out >got && test_cmp expect got
'

test_expect_success 'exit 1 when no image matched' '
	expect_exit 1 dz-match --bank bank.dzb c.png >out && ! test -s out
'

test_expect_success 'a rotated copy matches only with --dihedral' '
	expect_exit 1 dz-match --bank bank.dzb r.png >out && ! test -s out &&
	dz-match --dihedral --bank bank.dzb r.png >out &&
	jq -e ".path == \"r.png\" and .transform == \"rot90\" and .distance <= 31" out
'

test_expect_success 'a mirrored copy matches with --dihedral as flipy' '
	expect_exit 1 dz-match --bank bank.dzb m.png >out &&
	dz-match --dihedral --bank bank.dzb m.png >out &&
	jq -e ".transform == \"flipy\" and .distance <= 31" out
'

test_expect_success '--dihedral: an unrotated image has no "transform"' '
	dz-match --dihedral --bank bank.dzb a.png >out &&
	jq -e "(has(\"transform\") | not) and .distance == 0" out
'

test_expect_success 'hash records of dz-hash --dihedral match as the images do' '
	dz-hash --dihedral r.png m.png >rh.jsonl &&
	dz-match --dihedral --bank bank.dzb --hashes rh.jsonl >byhash &&
	dz-match --dihedral --bank bank.dzb r.png m.png >byimage &&
	test_cmp byimage byhash
'

test_expect_success 'names one per line on stdin' '
	printf "a.png\nc.png\nb.png\n" >list &&
	dz-match --bank bank.dzb <list >out &&
	jq -r .path out >got && printf "a.png\nb.png\n" >expect && test_cmp expect got
'

test_expect_success '-0 with find -print0: odd names' '
	mkdir d && cp a.png "d/new
line.png" && cp b.png "d/sp ace.png" && cp a.png "d/-dash.png" &&
	cp b.png "d/$(printf "caf\351.png")" && cp c.png d/c.png &&
	find d -type f -print0 | sort -z >list0 &&
	dz-match -0 --bank bank.dzb <list0 >out &&
	test $(wc -l <out) = 4 &&
	jq -se "any(.[]; .path == \"d/new\nline.png\")" out &&
	jq -se "any(.[]; .path == \"d/-dash.png\")" out &&
	jq -se "any(.[]; .path == \"d/sp ace.png\")" out &&
	jq -se "any(.[]; .path == \"d/caf\ufffd.png\" and .path_hex == \"642f636166e92e706e67\")" out
'

test_expect_success 'inputs that fail become error records; the others are matched; exit 65' '
	echo "not an image" >notimg.png && mkdir adir &&
	expect_exit 65 dz-match --bank bank.dzb a.png nosuch.png notimg.png adir b.png >out 2>err &&
	jq -r "[.type, .path] | @tsv" out >got &&
	printf "match\ta.png\nerror\tnosuch.png\nerror\tnotimg.png\nerror\tadir\nmatch\tb.png\n" >expect &&
	test_cmp expect got &&
	jq -se "map(select(.type == \"error\") | .program == \"dz-match\") | all" out &&
	grep -q "^dz-match: cannot match .nosuch.png.: " err &&
	test $(wc -l <err) = 3 &&
	expect_exit 65 dz-match -q --bank bank.dzb nosuch.png >out 2>err && ! test -s err
'

test_expect_success 'an empty name in a list is an error record' '
	printf "a.png\n\nb.png\n" >list &&
	expect_exit 65 dz-match --bank bank.dzb <list >out 2>err &&
	jq -r .type out >got && printf "match\nerror\nmatch\n" >expect && test_cmp expect got
'

test_expect_success '--max-bytes: a larger file is an error record' '
	expect_exit 65 dz-match --max-bytes 100 --bank bank.dzb a.png >out 2>err &&
	jq -e ".type == \"error\" and (.reason | test(\"too large\"))" out
'

test_expect_success 'an image below the quality floor is not matched, though in the bank' '
	expect_exit 1 dz-match -v --bank bank.dzb flat.png >out 2>err && ! test -s out &&
	grep -q "^dz-match: .flat.png.: quality [0-9]* is below 50: not matched$" err &&
	dz-match --min-quality 0 --bank bank.dzb flat.png >out &&
	jq -e ".path == \"flat.png\" and .distance == 0" out
'

test_expect_success '--exact hashes as the reference does' '
	dz-match --exact --bank bank.dzb a.png a.jpg >out &&
	test $(wc -l <out) = 2
'

test_expect_success '-j 2 writes the same output as -j 1' '
	mkdir many &&
	for i in $(seq 1 15); do
		cp a.png many/$i-a.png && cp c.png many/$i-c.png && cp r.png many/$i-r.png || return 1
	done &&
	echo junk >many/junk.png &&
	find many -type f | sort >list &&
	expect_exit 65 dz-match --dihedral -j 1 --bank bank.dzb <list >j1 2>/dev/null &&
	expect_exit 65 dz-match --dihedral -j 2 --bank bank.dzb <list >j2 2>/dev/null &&
	expect_exit 65 dz-match --dihedral -j 5 --bank bank.dzb <list >j5 2>/dev/null &&
	test_cmp j1 j2 && test_cmp j1 j5 && test $(wc -l <j1) = 31
'

test_expect_success 'progress on stderr: inputs and matches so far' '
	DZ_PROGRESS_FORCE=1 dz-match --bank bank.dzb a.png b.png c.png >out 2>err &&
	tr "\r" "\n" <err | grep -q "^dz-match: 3/3 inputs, 2 matches" &&
	dz-match --no-progress --bank bank.dzb a.png >out 2>err && ! test -s err
'

test_expect_success 'output to a full device: exit 74' '
	expect_exit 74 dz-match --bank bank.dzb a.png >/dev/full 2>err &&
	grep -q "cannot write output" err
'

test_expect_success 'the default state file is used and created' '
	test -f "$XDG_STATE_HOME/dz/match.state" &&
	grep -q "^issuer " "$XDG_STATE_HOME/dz/match.state"
'

test_done
