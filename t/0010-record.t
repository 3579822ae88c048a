#!/bin/bash
# lib/core/record and lib/core/out: JSON Lines records written and parsed,
# the output stream (C unit test).
exec "$(dirname "$0")/unit/test-record"
