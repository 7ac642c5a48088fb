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
# both cores; a test file stays on one worker, so module fixtures (an ingested corpus) are built
# once; files go out in the order tests/conftest.py gives them (heaviest first)
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder "$@"
