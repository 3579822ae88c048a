#!/bin/bash
DZ_TESTDATA=${DZ_TESTDATA:-$(cd "$(dirname "$0")/../.." && pwd)/shared/testdata} && export DZ_TESTDATA
exec "$(dirname "$0")/unit/test-decode"
