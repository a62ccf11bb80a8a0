#!/usr/bin/env bash
# Installs everything the tests need into .venv and runs the whole suite:
# ruff, the flow checks, the conversation tests written as data, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/pytest ] || [ pyproject.toml -nt .venv/.installed-test ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[test]'
  touch .venv/.installed-test
fi
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"
ruff check .
ruff format --check .
echo "== flows validate"
loket flows validate
echo "== flows test"
loket flows test
echo "== pytest"
pytest -q -p no:cacheprovider "$@"
