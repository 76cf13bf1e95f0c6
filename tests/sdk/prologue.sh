# Sourced by the SDK runners (run-against-*.sh) from the repository root: sets $python (a python with
# openai, anthropic and pytest) and $moat (the moat executable).
#
# Env: MOAT_PYTHON (default: a venv in .build/sdk-venv, created and filled from PyPI on first use),
# MOAT_BIN (a prebuilt moat; default: swift build).
if [[ -n "${MOAT_PYTHON:-}" ]]; then
    python="$MOAT_PYTHON"
else
    venv="$PWD/.build/sdk-venv"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    python="$venv/bin/python"
    if ! "$python" -c 'import openai, anthropic, pytest' 2>/dev/null; then
        "$python" -m pip install --quiet --upgrade openai anthropic pytest
    fi
fi
"$python" - <<'PY'
import sys, openai, anthropic, pytest
print(f"python {sys.version.split()[0]}, openai {openai.__version__}, anthropic {anthropic.__version__}, pytest {pytest.__version__}")
PY

if [[ -n "${MOAT_BIN:-}" ]]; then
    moat="$MOAT_BIN"
else
    swift build --product moat >&2
    moat="$(swift build --show-bin-path)/moat"
fi
[[ -x "$moat" ]] || { echo "no moat executable at $moat" >&2; exit 1; }
