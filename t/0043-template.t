#!/bin/bash
# lib/notice/template: the notice templates' Mustache subset (C unit test).
exec "$(dirname "$0")/unit/test-template"
