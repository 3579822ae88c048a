#!/bin/bash
# lib/core/progress: the progress line (C unit test).
exec "$(dirname "$0")/unit/test-progress"
