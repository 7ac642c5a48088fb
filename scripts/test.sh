#!/usr/bin/env bash
# One command for the whole suite: installs test dependencies and Chromium if missing,
# checks style and the import layers, then runs every test (unit, PostgreSQL, browser, real corpora).
# Extra arguments go to pytest, e.g. scripts/test.sh -k ingest
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements-dev.txt
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing Debian's chromium and chromium-driver for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "test.sh: chromium and chromedriver are needed for the browser tests (apt-get install chromium chromium-driver)" >&2
  fi
fi
.venv/bin/ruff check .
.venv/bin/lint-imports --no-logo --no-cache  # the layers of docs/architecture.md
# A temporary folder of the run's own: Chromium leaves a folder in it for every browser the
# tests start, and the run's stores are large. Removed after a pass, kept (and named) after a
# failure. World-writable like /tmp: the test PostgreSQL server runs as another user under it.
run_tmp="$(mktemp -d "${TMPDIR:-/tmp}/tension-tests.XXXXXX")"
chmod 1777 "$run_tmp"
# both cores; a test file stays on one worker, so module fixtures (an ingested corpus) are built
# once; files go out in the order tests/conftest.py gives them (heaviest first)
status=0
TMPDIR="$run_tmp" .venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder "$@" \
  || status=$?
if [ "$status" = 0 ]; then
  rm -rf "$run_tmp"
else
  echo "test.sh: this run's temporary files are kept in $run_tmp" >&2
fi
exit "$status"
