#!/bin/bash
# lib/hash/pdq against the PNM reference vectors (C unit test).
top=$(cd "$(dirname "$0")/.." && pwd)
export DZ_TESTDATA=${DZ_TESTDATA:-$top/t/data/reference}
exec "$top/t/unit/test-pdq"
