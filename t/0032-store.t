#!/bin/bash
# lib/store: the SQLite system of record (C unit test).
exec "$(dirname "$0")/unit/test-store"
