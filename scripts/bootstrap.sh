#!/usr/bin/env bash
# Create .venv and install pinned dependencies; re-installs only when a requirements file changes.
# Usage: scripts/bootstrap.sh [requirements.txt|requirements-dev.txt]
set -euo pipefail
cd "$(dirname "$0")/.."
want=${1:-requirements.txt}
py=${PYTHON:-}
if [ -z "$py" ]; then
  for cand in python3.11 python3 python; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      py=$cand; break
    fi
  done
fi
[ -n "$py" ] || { echo "bootstrap: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
[ -x .venv/bin/python ] || "$py" -m venv .venv
stamp=".venv/.installed-$(cat requirements.txt "$want" pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$want"
  # the project itself, editable: `tension` on the PATH of the venv, imports from this checkout
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  touch "$stamp"
fi

# plotly.js "basic" bundle (scatter, bar, and the layout features the chart uses): a third of
# the full bundle Dash would otherwise send. Same plotly.js version as the Python plotly
# package; checked by hash. Without npm the dashboard still works with the full bundle.
bundle=tension/dashboard/vendor/plotly-basic.min.js
bundle_version=4.1.1
bundle_sha256=99784e3abfb07b142a15e521a439e6d9addceadb3f79553fd24c72774f0649ba
if [ ! -f "$bundle" ] && command -v npm >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  if (cd "$tmp" && npm pack --silent "plotly.js-basic-dist-min@$bundle_version" >/dev/null 2>&1 \
        && tar xzf "plotly.js-basic-dist-min-$bundle_version.tgz") \
     && echo "$bundle_sha256  $tmp/package/plotly-basic.min.js" | sha256sum -c --quiet; then
    mkdir -p "$(dirname "$bundle")" && cp "$tmp/package/plotly-basic.min.js" "$bundle"
  else
    echo "bootstrap: could not fetch the plotly.js basic bundle; the dashboard will use the full one" >&2
  fi
  rm -rf "$tmp"
fi
