#!/usr/bin/env bash
# `npm run bench`: every benchmark, figures printed, nothing asserted. Like the
# tests, it gets a throwaway PostgreSQL server when PostgreSQL is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/test-postgres.sh
# The system benchmark runs the services' build output, and the CLI's its bundle: build them.
npm run build --silent >/dev/null
node --conditions=veritee-source --import tsx bench/run.ts "$@"
