#!/usr/bin/env bash
# Run the tests (sets up .venv from requirements-dev.txt first).
#
#   scripts/test.sh            EVERYTHING: unit, AppTest, Redis, browser (Debian's chromium, installed when
#                              missing) and load tests. The README's command; CI (.ci/run) runs exactly this.
#   scripts/test.sh --fast     the inner loop: everything except the `browser` and `load` markers
#                              (-m "not browser and not load"), on 2 pytest-xdist workers; no Chromium.
#                              About 80 s on an idle 2-core machine (its speed drifts: 67-90 s).
#   scripts/test.sh [--fast] ARGS...   extra pytest arguments, e.g. `--fast tests/core -x`, `-k replay`.
# Both install Debian's redis-server when missing (tests/redis starts its own on a free loopback port).
#
# Markers come from the folders (tests/browser and tests/load mark their own tests), so a new
# browser or load test is left out of --fast without anyone having to remember a marker.
# The exit code is pytest's, except that "no tests collected" (pytest's 5) is a failure, and so is a
# run in which no test passed (everything skipped or deselected): neither may turn CI green.
set -euo pipefail
cd "$(dirname "$0")/.."

fast=0
args=()
for arg in "$@"; do
  if [ "$arg" = "--fast" ]; then fast=1; else args+=("$arg"); fi
done

scripts/setup.sh --dev
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! command -v redis-server >/dev/null 2>&1; then
  echo "Installing Debian's redis-server for the Redis tests..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
fi
if [ "$fast" -eq 1 ]; then
  args=(-m "not browser and not load" -n 2 ${args[@]+"${args[@]}"})
elif ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# Python's default bytecode cache, even where the environment turns it off (PYTHONDONTWRITEBYTECODE=1 here):
# without it every run compiles the project's modules and re-rewrites every test module's asserts
# (about 5 s of CPU per pytest process before the first test). __pycache__/ is in .gitignore.
unset PYTHONDONTWRITEBYTECODE

status=0
LIQMAP_REQUIRE_A_PASS=1 .venv/bin/python -m pytest ${args[@]+"${args[@]}"} || status=$?
if [ "$status" -eq 5 ]; then
  echo "scripts/test.sh: no test passed (pytest exit code 5: none collected, or all skipped or deselected): failing." >&2
  exit 1
fi
exit "$status"
