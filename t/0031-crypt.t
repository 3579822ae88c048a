#!/bin/bash
# lib/crypto/crypt: key wrapping, sealed fields, chunked blobs, the master key file
# (C unit test).
exec "$(dirname "$0")/unit/test-crypt"
