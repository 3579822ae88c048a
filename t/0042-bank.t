#!/bin/bash
# lib/bank/bank: the partner hash bank in JSON Lines, CSV and .dzb; round trips,
# the signed comment, and hostile files (C unit test).
exec "$(dirname "$0")/unit/test-bank"
