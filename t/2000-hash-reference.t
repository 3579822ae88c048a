#!/bin/bash
# dz-hash agrees with the PDQ reference on every row of the expected files.
. "$(dirname "$0")/lib.sh"
require_testdata
pdq=$TESTDATA/pdq

# CMYK.jpg: the reference converted it with ImageMagick, so its hash
# depends on the CMYK-to-RGB formula. lib/media/jpegimage uses ImageMagick's own
# (see dz-hash(1), STANDARDS) and gets distance 0; a decoder with another
# formula would need a tolerance here.
cmyk_tol=modes/CMYK.jpg=0

files() { tail -n +2 "$pdq/$1" | cut -d, -f1; }

test_expect_success 'exact mode hashes every reference file' '
	(cd "$pdq" && dz-hash --exact --no-orient --format csv $(files expected-pdq-fullres.csv)) >"$TRASH/exact.csv"
'
check_hashes "$pdq/expected-pdq-fullres.csv" "$TRASH/exact.csv" 1 "0,$cmyk_tol"

test_expect_success 'exact mode, dihedral hashes' '
	(cd "$pdq" && dz-hash --exact --no-orient --dihedral --format csv $(files expected-pdq-fullres-dihedral.csv)) >"$TRASH/dih.csv"
'
check_hashes "$pdq/expected-pdq-fullres-dihedral.csv" "$TRASH/dih.csv" 8 "0,$cmyk_tol"

test_expect_success 'exact mode with EXIF orientation applied' '
	(cd "$pdq" && dz-hash --exact --format csv $(files expected-pdq-fullres-exif-oriented.csv)) >"$TRASH/exif.csv"
'
check_hashes "$pdq/expected-pdq-fullres-exif-oriented.csv" "$TRASH/exif.csv" 1 0

# Default mode: images too small to be scaled hash exactly as the
# reference; the 12-megapixel photos are decoded at a reduced scale and
# must stay within 10 bits (the reference project's compatibility bound).
test_expect_success 'default mode hashes every reference file' '
	(cd "$pdq" && dz-hash --no-orient --format csv $(files expected-pdq-fullres.csv)) >"$TRASH/fast.csv"
'
big="exif-rotn/exif-rotn-1.jpg=10,exif-rotn/exif-rotn-3.jpg=10,exif-rotn/exif-rotn-6.jpg=10,exif-rotn/exif-rotn-8.jpg=10"
check_hashes "$pdq/expected-pdq-fullres.csv" "$TRASH/fast.csv" 1 "0,$cmyk_tol,$big"

test_expect_success 'default mode with EXIF orientation' '
	(cd "$pdq" && dz-hash --format csv $(files expected-pdq-fullres-exif-oriented.csv)) >"$TRASH/fexif.csv"
'
check_hashes "$pdq/expected-pdq-fullres-exif-oriented.csv" "$TRASH/fexif.csv" 1 10

test_done
