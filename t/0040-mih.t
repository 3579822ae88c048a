#!/bin/bash
# lib/bank/mih: exact PDQ radius search against the brute-force oracle (C unit test).
exec "$(dirname "$0")/unit/test-mih"
