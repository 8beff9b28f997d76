#!/usr/bin/env bash
# Runs every test file of every workspace on the TypeScript sources through tsx.
# Node 20's test runner has no globs, so bash lists the files.
set -euo pipefail
shopt -s globstar nullglob
cd "$(dirname "$0")/.."
source scripts/test-postgres.sh
files=(attestations/test/**/*.test.ts http/test/**/*.test.ts service/test/**/*.test.ts mock/test/**/*.test.ts infra/test/**/*.test.ts kds/test/**/*.test.ts enclave/test/**/*.test.ts verifier/test/**/*.test.ts host/test/**/*.test.ts client/test/**/*.test.ts cli/test/**/*.test.ts test/**/*.test.ts)
if [ ${#files[@]} -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
node --conditions=veritee-source --import tsx --test --test-force-exit --test-reporter=spec "$@" "${files[@]}"
