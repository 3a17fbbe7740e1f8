#!/usr/bin/env bash
# Install what the tests need and pass them: lint, type check, the test suite with coverage
# against real servers, the documentation site, and the README's quick start in a fresh copy.
# This is the README's test command; CI runs it through .ci/run. It works with Debian 12's
# own python3, which refuses `pip install` outside a virtual environment (PEP 668): nox goes
# into a virtual environment of its own, .venv-ci.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_updated=
apt_install() {
    if [ -z "$apt_updated" ]; then
        apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The Redis backend tests start redis-server themselves; it is a Debian package.
if ! command -v redis-server >/dev/null 2>&1; then
    apt_install redis-server
fi

# Debian's python3 creates virtual environments only with python3-venv installed.
venv=.venv-ci
if ! "$venv/bin/python" -c "" >/dev/null 2>&1; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        rm -rf "$venv"
        apt_install python3-venv
        python3 -m venv "$venv"
    fi
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "nox>=2024.3"

"$venv/bin/python" -m nox -s lint typecheck tests docs
bash scripts/quickstart.sh
