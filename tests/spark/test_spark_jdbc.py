"""The gateway's combined exchange log, read from PostgreSQL through Spark's JDBC reader, gives `moat detect`'s report
on the same log, byte for byte (issue 14, item 4)."""
import calendar
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

MOAT = os.environ["MOAT_BIN"]
DRIVER = os.environ["MOAT_SPARK_DRIVER"]
sys.path.insert(0, str(Path(DRIVER).parent))
import moat_spark  # noqa: E402

REPLICAS = ("gw-a", "gw-b", "gw-c")
# How often, in the log's time, each replica ships what it served (ReplicaDetection ships every 100 ms; a coarser
# round interleaves the replicas' rows more).
SHIP_EVERY_MS = 10_000


def gateway_store(postgres, world):
    """A store as the gateway's replicas share it: the schema comes from moat itself (opening a PostgreSQL store
    migrates it), with the accounts imported the way an operator does. Returns exchange_log's columns."""
    subprocess.run([MOAT, "accounts", "import", str(world / "accounts.jsonl"), "--store", postgres.url], check=True,
                   stdout=subprocess.DEVNULL)
    columns = log_columns(postgres)
    assert columns[:3] == ["position", "replica", "line"], columns
    return columns


def log_columns(postgres):
    return postgres.sql("SELECT column_name FROM information_schema.columns WHERE table_name = 'exchange_log' "
                        "ORDER BY ordinal_position").split()


def ts_ms(line):
    """The exchange's event time in Unix milliseconds, as the replicas ship it in ts_ms (schema v3 on)."""
    t = datetime.fromisoformat(json.loads(line)["ts"].replace("Z", "+00:00"))
    return calendar.timegm(t.utctimetuple()) * 1000 + t.microsecond // 1000


def ship_as_replicas(postgres, lines):
    """Loads the log as three replicas ship it: each exchange served by one replica (round robin, in the log's
    arrival order), each replica shipping what it served in each round of SHIP_EVERY_MS, one replica after another,
    so that the combined log's `position` order interleaves the replicas' batches. Records what was shipped in
    log_shipped, as ReplicaDetection does, and each row's event time in ts_ms when the schema has it (v3 on), as
    PostgresStore.ship does. Returns the lines in position order."""
    rows, shipped = [], {r: 0 for r in REPLICAS}
    served = {r: [] for r in REPLICAS}
    clock = round_end = None

    def ship():
        for replica in REPLICAS:
            rows.extend((replica, line) for line in served[replica])
            shipped[replica] += len(served[replica])
            served[replica].clear()

    for i, line in enumerate(lines):
        t = ts_ms(line)
        clock = t if clock is None else max(clock, t)
        if round_end is None:
            round_end = clock + SHIP_EVERY_MS
        elif clock >= round_end:
            ship()
            round_end = clock + SHIP_EVERY_MS
        served[REPLICAS[i % len(REPLICAS)]].append(line)
    ship()
    if "ts_ms" in log_columns(postgres):
        postgres.copy_in("exchange_log", ["replica", "ts_ms", "line"], [(r, ts_ms(line), line) for r, line in rows])
    else:
        postgres.copy_in("exchange_log", ["replica", "line"], rows)
    for replica, n in shipped.items():
        postgres.sql("INSERT INTO log_shipped (replica, last_row) VALUES ('%s', %d)" % (replica, n))
    return [line for _, line in rows]


def moat_detect_on(world, lines, tmp_path, name):
    log = tmp_path / (name + ".jsonl")
    log.write_text("\n".join(lines) + "\n")
    out = tmp_path / (name + "-report.json")
    subprocess.run([MOAT, "detect", str(log), "--accounts", str(world / "accounts.jsonl"), "--out", str(out), "--quiet"], check=True)
    return out.read_bytes()


def test_gateway_log_in_postgresql_read_through_jdbc_in_4_ranges_gives_moat_detects_report(world, postgres, tmp_path):
    gateway_store(postgres, world)
    lines = (world / "exchanges.jsonl").read_text().splitlines()
    combined = ship_as_replicas(postgres, lines)
    # The log as the table holds it, in position order: the same lines, as the replicas shipped them.
    stored = postgres.sql("SELECT line FROM exchange_log ORDER BY position").splitlines()
    assert stored == combined and sorted(stored) == sorted(lines)
    expected = moat_detect_on(world, stored, tmp_path, "combined")
    assert json.loads(expected)["summary"]["campaigns"] >= 1
    # The replicas' interleaving stays within the reorder window: the same report as the simulator's own log.
    assert expected == (world / "report.json").read_bytes()

    metrics = tmp_path / "metrics.json"
    out = tmp_path / "report.json"
    moat_spark.main(["--moat", MOAT, "--master", "local[2]", "--partitions", "3", "--accounts", str(world / "accounts.jsonl"),
                     "--out", str(out), "--metrics", str(metrics), "--jdbc", postgres.url, "--table", "exchange_log",
                     "--jdbc-partitions", "4"])
    assert out.read_bytes() == expected
    m = json.loads(metrics.read_text())
    assert m["exchanges"] == len(lines)
    assert m["source"]["partition_column"] == "position" and m["source"]["partitions"] == 4
    assert (m["source"]["lower_bound"], m["source"]["upper_bound"]) == (1, len(lines))
    # Spark read the table in 4 tasks (the stage that ran the JDBC queries, then the shuffle by account).
    assert any(s["tasks"] == 4 for s in m["stages"]), m["stages"]


def test_jdbc_read_of_a_v2_store_without_ts_ms_splits_the_log_into_non_empty_ranges_that_hold_every_line_once(world, postgres):
    gateway_store(postgres, world)
    # A store as schema v2 made it (before v3-operators added ts_ms): position, replica, line.
    postgres.sql("ALTER TABLE exchange_log DROP COLUMN IF EXISTS ts_ms")
    lines = (world / "exchanges.jsonl").read_text().splitlines()
    ship_as_replicas(postgres, lines)
    from pyspark.sql import SparkSession, functions as F
    jar = moat_spark.jdbc_jar(moat_spark.parse_args(["--moat", MOAT, "--out", "-", "--jdbc", postgres.url]))
    spark = (SparkSession.builder.master("local[2]").appName("moat-jdbc-ranges").config("spark.jars", jar).getOrCreate())
    try:
        frame, desc = moat_spark.read_jdbc(spark, postgres.url, "exchange_log", 5)
        assert frame.rdd.getNumPartitions() == 5
        per_range = {r["p"]: r["n"] for r in frame.groupBy(F.spark_partition_id().alias("p")).agg(F.count("*").alias("n")).collect()}
        got = sorted(r["value"] for r in frame.collect())
    finally:
        spark.stop()
    assert sorted(per_range) == [0, 1, 2, 3, 4] and min(per_range.values()) > len(lines) // 10, per_range
    assert got == sorted(lines)
    assert desc["columns"] == ["position", "replica", "line"] and desc["partition_column"] == "position"


def test_v3_store_with_ts_ms_and_store_url_for_log_and_accounts_in_moat_spark_detect_gives_the_same_report(world, postgres, tmp_path):
    gateway_store(postgres, world)
    lines = (world / "exchanges.jsonl").read_text().splitlines()
    stored = ship_as_replicas(postgres, lines)
    # Schema v3 (v3-operators): the event-time column, filled from each line's `ts`, and its index; a moat that
    # has the migration made them already (and the rows were shipped with ts_ms), an older one did not.
    postgres.sql("ALTER TABLE exchange_log ADD COLUMN IF NOT EXISTS ts_ms BIGINT")
    postgres.sql("UPDATE exchange_log SET ts_ms = floor(extract(epoch FROM ((line::jsonb) ->> 'ts')::timestamptz) * 1000)::bigint "
                 "WHERE ts_ms IS NULL")
    postgres.sql("CREATE INDEX IF NOT EXISTS exchange_log_ts ON exchange_log (ts_ms, position)")
    assert postgres.sql("SELECT count(*) FROM exchange_log WHERE ts_ms IS NULL").strip() == "0"
    assert [ts_ms(l) for l in stored] == [int(v) for v in postgres.sql("SELECT ts_ms FROM exchange_log ORDER BY position").split()]
    expected = moat_detect_on(world, stored, tmp_path, "combined")
    metrics = tmp_path / "metrics.json"
    # The store's URL as a log argument of `moat spark-detect` (the same as --jdbc), the driver jar found by default,
    # and the accounts from the store's `accounts` table (as `moat accounts import` loaded them), not from the file.
    subprocess.run([MOAT, "spark-detect", postgres.url, "--accounts", postgres.url, "--out", str(tmp_path / "report.json"),
                    "--master", "local[2]", "--partitions", "3", "--python", sys.executable, "--metrics", str(metrics)], check=True)
    assert (tmp_path / "report.json").read_bytes() == expected
    m = json.loads(metrics.read_text())
    assert m["source"]["columns"] == ["position", "replica", "line", "ts_ms"]
    assert m["source"]["partition_column"] == "position" and m["source"]["partitions"] == 3
    assert m["source"]["accounts"] == len((world / "accounts.jsonl").read_text().splitlines())
    # Partitioned by the event time instead (an exported table may have no position): still the same report.
    out = tmp_path / "by-time.json"
    moat_spark.main(["--moat", MOAT, "--master", "local[2]", "--partitions", "2", "--accounts", str(world / "accounts.jsonl"),
                     "--out", str(out), "--metrics", str(metrics), "--jdbc", postgres.url, "--partition-column", "ts_ms",
                     "--jdbc-partitions", "3"])
    assert out.read_bytes() == expected
    assert json.loads(metrics.read_text())["source"]["partition_column"] == "ts_ms"
