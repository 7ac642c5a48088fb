#!/usr/bin/env bash
# One command to a running dashboard: install what is needed, then serve on 127.0.0.1:8050.
# Extra arguments go to app.py, e.g. scripts/dashboard.sh --port 8060 --db sqlite:///other.db
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements.txt
exec .venv/bin/python app.py "$@"
