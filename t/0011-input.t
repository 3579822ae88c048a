#!/bin/bash
# lib/core/input: file names and reading files (C unit test).
exec "$(dirname "$0")/unit/test-input"
