#!/usr/bin/env bash
# Installs Loket into .venv (first run only) and starts it on the embedded default:
# a SQLite file, no Telegram token, a local Bot API with a web chat, a WhatsApp Cloud API
# stand-in with its own web chat page (/wa/), and the agencies' sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/loket ] || [ pyproject.toml -nt .venv/.installed ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e .
  touch .venv/.installed
fi
exec .venv/bin/loket run "$@"
