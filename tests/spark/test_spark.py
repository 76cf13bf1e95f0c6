"""The staged engine on Spark gives `moat detect`'s report, byte for byte (issue 14)."""
import gzip
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

MOAT = os.environ["MOAT_BIN"]
DRIVER = os.environ["MOAT_SPARK_DRIVER"]
sys.path.insert(0, str(Path(DRIVER).parent))
import moat_spark  # noqa: E402


def reference(world):
    return (world / "report.json").read_bytes()


def spark_detect(world, inputs, out, partitions, *extra, master="local[2]"):
    args = ["--moat", MOAT, "--master", master, "--partitions", str(partitions), "--accounts",
            str(world / "accounts.jsonl"), "--out", str(out), *extra, *map(str, inputs)]
    moat_spark.main(args)
    return Path(out).read_bytes()


@pytest.mark.parametrize("partitions", [1, 2, 4, 7])
def test_report_is_byte_identical_to_moat_detect_for_partitions(world, tmp_path, partitions):
    got = spark_detect(world, [world / "exchanges.jsonl"], tmp_path / "report.json", partitions)
    assert json.loads(got)["summary"]["campaigns"] >= 1
    assert got == reference(world)


@pytest.mark.parametrize("compression,suffix", [("gzip", ".gz"), ("none", ".txt")])
def test_stage2_output_gzip_or_plain_gives_the_same_report(world, tmp_path, compression, suffix):
    work = tmp_path / "work"
    got = spark_detect(world, [world / "exchanges.jsonl"], tmp_path / "report.json", 3,
                       "--work", str(work), "--work-compression", compression)
    assert got == reference(world)
    parts = [p.name for p in (work / "exchanges").iterdir() if p.name.startswith("part-")]
    assert parts and all(n.endswith(suffix) for n in parts)


def test_shuffled_input_split_over_files_and_gzip_gives_the_same_report(world, tmp_path):
    lines = (world / "exchanges.jsonl").read_text().splitlines()
    random.Random(7).shuffle(lines)
    parts = tmp_path / "log"
    parts.mkdir()
    third = len(lines) // 3
    (parts / "a.jsonl").write_text("\n".join(lines[:third]) + "\n")
    (parts / "b.jsonl").write_text("\n".join(lines[third:2 * third]) + "\n\n")
    with gzip.open(parts / "c.jsonl.gz", "wt") as f:
        f.write("\n".join(lines[2 * third:]) + "\n")
    got = spark_detect(world, [parts], tmp_path / "report.json", 4)
    assert got == reference(world)


def test_parquet_input_gives_the_same_report(world, tmp_path):
    from pyspark.sql import SparkSession
    spark = SparkSession.builder.master("local[1]").appName("moat-parquet-fixture").getOrCreate()
    try:
        spark.read.json(str(world / "exchanges.jsonl")).write.parquet(str(tmp_path / "log.parquet"))
    finally:
        spark.stop()
    got = spark_detect(world, [tmp_path / "log.parquet"], tmp_path / "report.json", 3, "--format", "parquet")
    assert got == reference(world)


def test_campaign_split_across_partitions_and_time_buckets_is_found_the_same(world, tmp_path):
    report = json.loads(reference(world))
    campaign = max(report["campaigns"], key=lambda c: len(c["accounts"]))
    members = set(campaign["accounts"])
    # Where Spark puts each member with 7 partitions by account: the campaign must be split.
    from pyspark.sql import SparkSession, functions as F
    spark = SparkSession.builder.master("local[1]").appName("moat-partition-check").getOrCreate()
    try:
        rows = (spark.createDataFrame([(a,) for a in sorted(members)], "account string")
                .repartition(7, "account").select("account", F.spark_partition_id().alias("p")).collect())
    finally:
        spark.stop()
    assert len({r["p"] for r in rows}) >= 2, "the campaign's accounts all fell in one partition"
    # Its traffic spans many 15-minute co-activity buckets and more than one day.
    from datetime import datetime
    t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
    assert (t(campaign["last_seen"]) - t(campaign["first_seen"])).total_seconds() > 86_400
    # The campaign's exchanges in one file, everything else in another, read in the opposite order.
    campaign_lines, other = [], []
    for line in (world / "exchanges.jsonl").read_text().splitlines():
        (campaign_lines if json.loads(line)["account_id"] in members else other).append(line)
    log = tmp_path / "log"
    log.mkdir()
    (log / "1-others.jsonl").write_text("\n".join(other) + "\n")
    (log / "0-campaign.jsonl").write_text("\n".join(campaign_lines) + "\n")
    got = spark_detect(world, [log], tmp_path / "report.json", 7)
    assert got == reference(world)
    flagged = {a["account_id"]: a["flagged_at"] for a in json.loads(got)["accounts"]}
    assert {a["account_id"]: a["flagged_at"] for a in report["accounts"]} == flagged


def test_moat_spark_detect_command_and_metrics(world, tmp_path):
    metrics = tmp_path / "metrics.json"
    subprocess.run([MOAT, "spark-detect", str(world / "exchanges.jsonl"), "--accounts", str(world / "accounts.jsonl"),
                    "--out", str(tmp_path / "report.json"), "--master", "local[2]", "--partitions", "2",
                    "--python", sys.executable, "--metrics", str(metrics), "--collect"], check=True)
    assert (tmp_path / "report.json").read_bytes() == reference(world)
    m = json.loads(metrics.read_text())
    assert m["exchanges"] == json.loads(reference(world))["summary"]["exchanges"]
    assert m["exchanges_per_executor_core_second"] > 0
    assert len(m["stage1_processes"]) == 2
    if os.access("/usr/bin/time", os.X_OK):
        # The Swift processes' own peaks (GNU time), not rusage's, which keeps the forking Python's RSS.
        assert m["stage3_process"]["maxrss_source"] == "GNU time"
        assert all(p["maxrss_source"] == "GNU time" for p in m["stage1_processes"])


def test_invalid_lines_are_counted_like_moat_detect(world, tmp_path):
    lines = (world / "exchanges.jsonl").read_text().splitlines()
    bad = lines[:50] + ["{not json", '{"id": 1}'] + lines[50:]
    (tmp_path / "bad.jsonl").write_text("\n".join(bad) + "\n")
    subprocess.run([MOAT, "detect", str(tmp_path / "bad.jsonl"), "--accounts", str(world / "accounts.jsonl"),
                    "--out", str(tmp_path / "ref.json"), "--quiet", "--skip-invalid"], check=True, stderr=subprocess.DEVNULL)
    got = spark_detect(world, [tmp_path / "bad.jsonl"], tmp_path / "report.json", 2, "--skip-invalid")
    assert json.loads(got)["summary"]["invalid_lines"] == 2
    assert got == (tmp_path / "ref.json").read_bytes()


def test_stage_commands_by_hand_give_the_same_report(world, tmp_path):
    s1 = tmp_path / "s1"
    s1.mkdir()
    lines = (world / "exchanges.jsonl").read_text().splitlines()
    accounts = sorted({json.loads(l)["account_id"] for l in lines})
    half = set(accounts[::2])
    for name, keep in (("a", lambda a: a in half), ("b", lambda a: a not in half)):
        part = [l for l in lines if keep(json.loads(l)["account_id"])]
        subprocess.run([MOAT, "stage1", "--out", str(s1 / name)], input=("\n".join(part) + "\n").encode(), check=True)
    subprocess.run([MOAT, "stage2", str(s1), "--out-dir", str(tmp_path / "s2")], check=True)
    subprocess.run([MOAT, "stage3", "--side", str(tmp_path / "s2" / "side"), "--exchanges", str(tmp_path / "s2" / "exchanges"),
                    "--accounts", str(world / "accounts.jsonl"), "--out", str(tmp_path / "report.json"), "--quiet"], check=True)
    assert (tmp_path / "report.json").read_bytes() == reference(world)
