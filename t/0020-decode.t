#!/bin/bash
DZ_TESTDATA=${DZ_TESTDATA:-$(cd "$(dirname "$0")/.." && pwd)/t/data/reference} && export DZ_TESTDATA
exec "$(dirname "$0")/unit/test-decode"
