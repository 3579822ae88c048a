#!/bin/bash
# lib/core/runner: ordered delivery, error records, the status (C unit test).
exec "$(dirname "$0")/unit/test-runner"
