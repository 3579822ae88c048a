#!/bin/bash
# lib/hash/vpdq: signatures in JSON and matching (C unit test).
exec "$(dirname "$0")/unit/test-vpdq"
