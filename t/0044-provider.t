#!/bin/bash
# lib/notice/provider: the provider directory (C unit test).
exec "$(dirname "$0")/unit/test-provider"
