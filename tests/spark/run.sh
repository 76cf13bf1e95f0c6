#!/usr/bin/env bash
# The staged engine on Apache Spark (issue 14), in Spark's local mode, against `moat detect`:
# byte-identical reports for 1, 2, 4 and 7 partitions, shuffled input split over files (one gzipped),
# Parquet input, a campaign whose accounts sit in several partitions and whose traffic spans time buckets,
# the stage commands run by hand (stage1 | stage2 | stage3), and the gateway's combined exchange log read
# from a real PostgreSQL through Spark's JDBC reader (test_spark_jdbc.py).
#
#   tests/spark/run.sh [pytest args...]
#
# Env: MOAT_PYTHON (a python; pyspark 4.3.0, pyarrow, pandas and pytest are installed into it when missing),
# MOAT_BIN (a prebuilt moat; default: swift build), MOAT_JDBC_JAR (PostgreSQL's JDBC driver; default Debian's
# /usr/share/java/postgresql.jar). Needs Java 17, PostgreSQL's server and its JDBC driver (Debian
# openjdk-17-jre-headless, postgresql, libpostgresql-jdbc-java; installed with apt-get when missing and running
# as root).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

jdbc_jar="${MOAT_JDBC_JAR:-/usr/share/java/postgresql.jar}"
missing=()
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
[[ -f "$jdbc_jar" ]] || missing+=(libpostgresql-jdbc-java)
command -v initdb >/dev/null || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if (( ${#missing[@]} )); then
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
    else
        echo "error: missing ${missing[*]} (apt-get install ${missing[*]})" >&2
        exit 1
    fi
fi
java -version 2>&1 | head -1
[[ -f "$jdbc_jar" ]] || { echo "no PostgreSQL JDBC driver at $jdbc_jar" >&2; exit 1; }
echo "jdbc driver $(readlink -f "$jdbc_jar")"

if [[ -n "${MOAT_PYTHON:-}" ]]; then
    python="$MOAT_PYTHON"
else
    venv="$PWD/.build/sdk-venv"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    python="$venv/bin/python"
fi
if ! "$python" -c 'import pyspark, pyarrow, pandas, pytest' 2>/dev/null; then
    "$python" -m pip install --quiet --disable-pip-version-check "pyspark==4.3.0" pyarrow "pandas<3" pytest </dev/null
fi
"$python" - <<'PY'
import sys, importlib.metadata as m
print("python", sys.version.split()[0], *(f"{p} {m.version(p)}" for p in ("pyspark", "pyarrow", "pytest")))
PY

if [[ -n "${MOAT_BIN:-}" ]]; then
    moat="$MOAT_BIN"
else
    swift build --product moat >&2
    moat="$(swift build --show-bin-path)/moat"
fi
[[ -x "$moat" ]] || { echo "no moat executable at $moat" >&2; exit 1; }

export MOAT_BIN="$moat" MOAT_PYTHON="$python" MOAT_SPARK_DRIVER="$root/scripts/spark/moat_spark.py"
export PYSPARK_PYTHON="$python" PYSPARK_DRIVER_PYTHON="$python" MOAT_JDBC_JAR="$jdbc_jar"
# The JDBC driver in spark.jars of every Spark the tests start (the driver script adds it too when it reads a
# database; this also covers a JVM that an earlier test of the same process started).
export PYSPARK_SUBMIT_ARGS="--conf spark.jars=$jdbc_jar pyspark-shell"
exec "$python" -m pytest -q -p no:cacheprovider "$here" "$@"
