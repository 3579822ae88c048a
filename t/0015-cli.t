#!/bin/bash
# lib/core/cli: strict numbers and the one message shape (C unit test).
exec "$(dirname "$0")/unit/test-cli"
