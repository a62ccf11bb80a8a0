#!/usr/bin/env bash
# Runs the date-sensitive tests with the machine's calendar moved (libfaketime), to prove the
# suite passes whatever day CI runs on (issue 12): a day in the past, the eve of the new
# year in Timika (WIT is already 1 January while UTC is still 31 December) and a day next
# year (today is the main run's). The clock keeps ticking from the given moment, so timers
# and timeouts work.
# Logic takes "now" from an injected clock; a leak of the wall clock shows up here.
# SQLite only: the PostgreSQL server's own clock cannot be moved, and the variants on it are
# run by the main test command.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1 || true)
if [ -z "$FAKETIME_LIB" ]; then
  echo "libfaketime is not installed (apt-get install -y faketime)" >&2
  exit 1
fi
# Everything that compares dates, shows dates, schedules or keeps data for a time.
DATE_SENSITIVE=(
  tests/validators tests/engine tests/flows tests/integrations tests/notify tests/broadcast
  tests/staff tests/storage tests/test_retention.py tests/test_export.py
  tests/console/test_versions.py tests/console/test_telegram.py tests/booking
)
# Today itself is the main test command's run (scripts/test.sh, on the real calendar).
for moment in "2025-03-10 01:30:00" "2026-12-31 16:30:00" "2027-06-01 03:00:00"; do
  echo "== pytest, calendar at $moment UTC"
  LOKET_TEST_FROZEN_DATE="${moment%% *}" LOKET_REQUIRE_POSTGRES=0 LOKET_TEST_POSTGRES_URL= \
    faketime "$moment" pytest -q -p no:cacheprovider -k "not postgresql" "${DATE_SENSITIVE[@]}" "$@"
done
