#!/bin/bash
# lib/store/store: the SQLite system of record (C unit test).
exec "$(dirname "$0")/unit/test-store"
