#!/bin/bash
# lib/record: JSON Lines reader and writer (C unit test).
exec "$(dirname "$0")/unit/test-record"
