#!/usr/bin/env bash
# Install what the tests need and pass them: lint, type check, and the test suite with
# coverage against real servers. This is the README's test command; CI runs it through .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
# The Redis backend tests start redis-server themselves; it is a Debian package.
if ! command -v redis-server >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
python3 -m pip install --quiet --disable-pip-version-check "nox>=2024.3"
python3 -m nox -s lint typecheck tests
