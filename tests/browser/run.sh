#!/usr/bin/env bash
# Runs the browser tests (tests/browser/test_*.py) in real headless Chromium through chromedriver and
# selenium: the HTML campaign report written by `moat demo` and `moat report`, and the operator dashboard
# (`/ui` on a running `moat serve` in front of `moat mock-upstream`, with the official openai and anthropic SDKs).
#
#   tests/browser/run.sh [pytest args...]
#
# Env: MOAT_PYTHON (a python with selenium, pytest, openai and anthropic; default: a venv in .build/sdk-venv, filled from
# PyPI on first use), MOAT_BIN (a prebuilt moat; default: swift build), MOAT_CHROMIUM and
# MOAT_CHROMEDRIVER (default: chromium and chromedriver on PATH; Debian: apt-get install chromium
# chromium-driver, which this script does itself when run as root and they are missing),
# MOAT_BROWSER_ARTIFACTS (where screenshots and PDFs go; default .build/browser-artifacts).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

chromium="${MOAT_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
driver="${MOAT_CHROMEDRIVER:-$(command -v chromedriver || true)}"
if [[ -z "$chromium" || -z "$driver" ]]; then
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "installing chromium and chromium-driver (Debian packages)"
        t0=$SECONDS
        DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver </dev/null >/dev/null
        echo "installed in $((SECONDS - t0)) s"
        chromium="$(command -v chromium)"
        driver="$(command -v chromedriver)"
    else
        echo "error: the browser tests need chromium and chromedriver (Debian: apt-get install chromium chromium-driver)" >&2
        exit 1
    fi
fi
export MOAT_CHROMIUM="$chromium" MOAT_CHROMEDRIVER="$driver"
"$chromium" --version 2>/dev/null || true
"$driver" --version 2>/dev/null || true

if [[ -n "${MOAT_PYTHON:-}" ]]; then
    python="$MOAT_PYTHON"
else
    venv="$root/.build/sdk-venv"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    python="$venv/bin/python"
fi
if ! "$python" -c 'import selenium, pytest, openai, anthropic' 2>/dev/null; then
    "$python" -m pip install --quiet --disable-pip-version-check selenium pytest openai anthropic </dev/null
fi
"$python" -c 'import sys, selenium, pytest; print(f"python {sys.version.split()[0]}, selenium {selenium.__version__}, pytest {pytest.__version__}")'

if [[ -n "${MOAT_BIN:-}" ]]; then
    moat="$MOAT_BIN"
else
    swift build --product moat >&2
    moat="$(swift build --show-bin-path)/moat"
fi
[[ -x "$moat" ]] || { echo "no moat executable at $moat" >&2; exit 1; }
export MOAT_BIN="$moat"
export MOAT_BROWSER_ARTIFACTS="${MOAT_BROWSER_ARTIFACTS:-$root/.build/browser-artifacts}"
mkdir -p "$MOAT_BROWSER_ARTIFACTS"

status=0
"$python" -m pytest -q -p no:cacheprovider "$here" "$@" || status=$?
echo "artifacts (screenshots, PDFs) in $MOAT_BROWSER_ARTIFACTS"
exit "$status"
