#!/bin/bash
# lib/core/reader: the bounded line reader (C unit test).
exec "$(dirname "$0")/unit/test-reader"
