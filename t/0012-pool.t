#!/bin/bash
# lib/core/pool: ordered delivery from worker threads (C unit test).
exec "$(dirname "$0")/unit/test-pool"
