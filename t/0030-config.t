#!/bin/bash
# lib/core/config: dz.yaml(5), the configuration file (C unit test).
exec "$(dirname "$0")/unit/test-config"
