#!/usr/bin/env python3
"""Moat's staged detection engine on Apache Spark (issue 14): the same report as `moat detect`.

    python3 scripts/spark/moat_spark.py --moat .build/debug/moat --master 'local[2]' \\
        --accounts accounts.jsonl --out report.json exchanges/          # or: moat spark-detect ...

Stage 1 (executors): the log's lines, partitioned by account, are piped through `moat stage1` (the binary is
shipped with SparkContext.addFile) inside mapInArrow; it parses them with Moat's own reader and emits staged
lines: exchange digests (E), system-prompt signatures (S), invalid-line counts (I), postings (P).
Stage 2 (Spark SQL): E lines ordered by (event time, exchange id, line) across range partitions; S lines
deduplicated by hash; I lines kept; optionally (--postings) key holders, hot keys and weighted pairs.
Stage 3 (driver): `moat stage3` replays the ordered lines through the engine and writes the report.

Input: JSON Lines files or directories (gzip too), Parquet (--format parquet; columns named as the contract's
fields), or the gateway's combined exchange log in PostgreSQL through Spark's JDBC reader:

    python3 scripts/spark/moat_spark.py --moat .build/debug/moat --accounts accounts.jsonl --out report.json \\
        --jdbc postgres://moat@db:5432/moat [--table exchange_log] [--jdbc-partitions 8]

(a `postgres://` or `jdbc:postgresql://` URL given as an input is the same as --jdbc, so `moat spark-detect
postgres://...` works too). The table's `line` column holds each exchange as the contract's JSON line, as the
replicas shipped it; it is read in --jdbc-partitions ranges of a numeric column (`position`, or --partition-column)
by parallel tasks, and goes to stage 1 as the files' lines do. The PostgreSQL JDBC driver's jar (Debian
libpostgresql-jdbc-java: /usr/share/java/postgresql.jar, or --jdbc-jar, or $MOAT_JDBC_JAR) is added to spark.jars.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="*", help="JSON Lines files or directories (.gz too), Parquet paths, or a "
                   "postgres:// or jdbc:postgresql:// URL (as --jdbc)")
    p.add_argument("--moat", required=True, help="the moat binary (shipped to the executors)")
    p.add_argument("--out", required=True, help="where to write the report JSON")
    p.add_argument("--accounts", help="accounts file (JSON Lines), read by stage 3 on the driver; or the store's URL "
                   "(postgres://... or jdbc:postgresql://...): its `accounts` table, read through JDBC")
    p.add_argument("--master", default="local[*]", help="Spark master URL (local[2], spark://host:7077, yarn, k8s://...)")
    p.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl")
    p.add_argument("--partitions", type=int, help="partitions by account for stage 1 (default: default parallelism)")
    p.add_argument("--skip-invalid", action="store_true", help="count and skip invalid lines instead of failing")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="engine tunable, as for moat detect")
    p.add_argument("--work", help="work directory for stage 2's output (default: a temporary directory); on a "
                   "cluster a path the driver can read, or use --collect")
    p.add_argument("--work-compression", choices=["gzip", "none"], default="gzip",
                   help="how stage 2 writes its ordered lines to --work (default gzip: about a fifth of the plain "
                   "size; stage 3 reads them through `gzip -dc`)")
    p.add_argument("--collect", action="store_true",
                   help="stream the ordered lines to stage 3 through the driver (toLocalIterator) instead of files")
    p.add_argument("--postings", action="store_true",
                   help="also aggregate postings in Spark SQL (key holders, hot keys, weighted pairs) into --work")
    p.add_argument("--metrics", help="write Spark's task metrics (JSON) here")
    p.add_argument("--keep-work", action="store_true")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="extra Spark configuration")
    j = p.add_argument_group("PostgreSQL through JDBC (the gateway's combined exchange log)")
    j.add_argument("--jdbc", metavar="URL", help="the store: postgres://user[:password]@host:port/db (as `moat serve "
                   "--store`) or jdbc:postgresql://host:port/db[?user=...]")
    j.add_argument("--table", default="exchange_log", help="the table (default: exchange_log, the replicas' combined "
                   "log), whose `line` column holds each exchange as the contract's JSON line")
    j.add_argument("--partition-column", help="numeric column whose ranges the parallel reads split (default: "
                   "position, else ts_ms)")
    j.add_argument("--jdbc-partitions", type=int, help="parallel reads (default: --partitions, else default parallelism)")
    j.add_argument("--jdbc-jar", help="the JDBC driver's jar (default: $MOAT_JDBC_JAR, else /usr/share/java/postgresql.jar)")
    j.add_argument("--jdbc-option", action="append", default=[], metavar="KEY=VALUE",
                   help="extra option of Spark's JDBC reader (fetchsize=..., sessionInitStatement=..., ...)")
    args = p.parse_args(argv)
    files = []
    for i in args.inputs:
        if is_database_url(i):
            if args.jdbc and args.jdbc != i:
                p.error("one database at a time: %s and %s" % (redact(args.jdbc), redact(i)))
            args.jdbc = i
        else:
            files.append(i)
    args.inputs = files
    if not args.inputs and not args.jdbc:
        p.error("give the log: files, directories, or --jdbc URL")
    return args


def is_database_url(text):
    return text.startswith(("jdbc:", "postgres://", "postgresql://"))


def redact(url):
    """The URL as messages show it: a password hidden."""
    import urllib.parse
    if url.startswith("jdbc:"):
        return re.sub(r"(?i)(password=)[^&;]*", r"\1***", url)
    u = urllib.parse.urlsplit(url)
    if u.password is None:
        return url
    return url.replace(":" + u.password + "@", ":***@", 1)


def jdbc_connection(url):
    """(JDBC URL, user/password options) for a postgres:// URL as the gateway's store takes, or a jdbc: URL as is."""
    import urllib.parse
    if url.startswith("jdbc:"):
        return url, {}
    u = urllib.parse.urlsplit(url)
    host = u.hostname or "localhost"
    if ":" in host:
        host = "[%s]" % host
    jurl = "jdbc:postgresql://%s:%d/%s" % (host, u.port or 5432, urllib.parse.unquote(u.path.lstrip("/")) or "postgres")
    query = urllib.parse.parse_qsl(u.query)
    # The store's own TLS setting (PostgresURL: sslmode=disable|prefer|require) means the same to the JDBC driver.
    if query:
        jurl += "?" + urllib.parse.urlencode(query)
    options = {}
    if u.username:
        options["user"] = urllib.parse.unquote(u.username)
    if u.password is not None:
        options["password"] = urllib.parse.unquote(u.password)
    return jurl, options


def jdbc_jar(args):
    for jar in (args.jdbc_jar, os.environ.get("MOAT_JDBC_JAR"), "/usr/share/java/postgresql.jar"):
        if jar:
            if not os.path.exists(jar) and jar == args.jdbc_jar:
                raise SystemExit("error: no JDBC driver jar at %s" % jar)
            if os.path.exists(jar):
                return os.path.abspath(jar)
    return None


def jdbc_options(url, extra=()):
    """Spark's JDBC reader options for the store at `url`, with `extra` KEY=VALUE options over them."""
    jurl, auth = jdbc_connection(url)
    base = {"url": jurl, "fetchsize": "10000"}
    if jurl.startswith("jdbc:postgresql:"):
        base["driver"] = "org.postgresql.Driver"
    base.update(auth)
    for kv in extra:
        k, _, v = kv.partition("=")
        base[k] = v
    return base


def read_jdbc(spark, url, table="exchange_log", partitions=4, partition_column=None, options=()):
    """The log's rows as one string column `value` (the contract's JSON lines), read by up to `partitions` parallel
    JDBC queries over ranges of a numeric column. Returns (DataFrame, description of the read).

    The gateway's table (`exchange_log`: position BIGSERIAL, replica, line, and from schema v3 on ts_ms) is read
    through `line` (text, or jsonb, which the JDBC reader gives as text); other columns are not read. The read is
    cut at the partition column's largest value when it starts, so that rows the replicas ship meanwhile are left
    out by every range alike."""
    from pyspark.sql import functions as F
    base = jdbc_options(url, options)

    def reader():
        return spark.read.format("jdbc").options(**base)

    try:
        fields = reader().option("dbtable", table).load().schema.fields
    except Exception as e:
        raise SystemExit("error: cannot read table %s from %s: %s" % (table, redact(url), java_message(e)))
    numeric = {f.name.lower(): f.name for f in fields
               if f.dataType.typeName() in ("long", "integer", "short", "decimal")}
    names = {f.name.lower(): f.name for f in fields}
    if "line" not in names:
        raise SystemExit("error: %s has no `line` column (each exchange as the contract's JSON line, text or jsonb); its "
                         "columns: %s" % (table, ", ".join(f.name for f in fields)))
    if partition_column:
        column = names.get(partition_column.lower())
        if column is None or column.lower() not in numeric:
            raise SystemExit("error: %s has no numeric column %s to partition the read by (columns: %s)"
                             % (table, partition_column, ", ".join(f.name for f in fields)))
    else:
        column = next((numeric[c] for c in ("position", "ts_ms") if c in numeric), None)
    desc = {"jdbc": redact(url), "table": table, "partition_column": column, "columns": [f.name for f in fields]}

    source = table
    if column is not None:
        bounds = reader().option("query", 'SELECT min("%s") AS lo, max("%s") AS hi FROM %s' % (column, column, table)).load().first()
        lo, hi = bounds["lo"], bounds["hi"]
    else:
        lo = hi = None
    if lo is not None:
        lo, hi = int(lo), int(hi)
        # The cut: rows shipped while the read runs are left out by every range alike (the last range is open-ended).
        source = '(SELECT * FROM %s WHERE "%s" <= %d) AS moat_log' % (table, column, hi)
        n = max(1, min(partitions, hi - lo + 1))
        frame = (reader().option("dbtable", source).option("partitionColumn", column).option("lowerBound", str(lo))
                 .option("upperBound", str(hi + 1)).option("numPartitions", str(n)).load())
        desc.update({"lower_bound": lo, "upper_bound": hi, "partitions": n})
    else:
        # No numeric column, or an empty table: one query.
        frame = reader().option("dbtable", source).load()
        desc.update({"partitions": 1})
    return frame.select(F.col(names["line"]).alias("value")), desc


def java_message(error):
    """The Java exception's own line out of a Py4J error (whose first line only names the call)."""
    text = str(error)
    for line in text.splitlines():
        line = line.strip().lstrip(": ")
        if re.match(r"^[\w.$]+(Exception|Error)(: |$)", line):
            if "ClassNotFoundException" in line:
                line += (" (the JDBC driver's jar must be in spark.jars when Spark's JVM starts: --jdbc-jar, $MOAT_JDBC_JAR, "
                         "or apt-get install libpostgresql-jdbc-java)")
            return line[:1000]
    return text.splitlines()[0][:1000] if text else type(error).__name__


def accounts_from_store(spark, url, path, options=()):
    """Writes the store's `accounts` table (what `moat accounts import` loaded, in import order) to `path` as the
    contract's accounts file (section 2), for stage 3 on the driver. Returns how many accounts."""
    base = jdbc_options(url, options)
    base["dbtable"] = "accounts"
    try:
        table = spark.read.format("jdbc").options(**base).load()
        fields = ["account_id", "created_at_ms", "org_id", "email_domain", "payment_fingerprint", "verification", "program",
                  "country", "label"]
        rows = table.select(*fields).orderBy("written", "account_id").toLocalIterator()
        n = 0
        with open(path, "w", encoding="utf-8") as f:
            for r in rows:
                record = {"account_id": r["account_id"]}
                if r["created_at_ms"] is not None:
                    ms = int(r["created_at_ms"])
                    t = time.gmtime(ms // 1000)
                    record["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % (ms % 1000)
                for k in fields[2:]:
                    if r[k] is not None:
                        record[k] = r[k]
                f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
                n += 1
        return n
    except SystemExit:
        raise
    except Exception as e:
        raise SystemExit("error: cannot read the accounts table from %s: %s" % (redact(url), java_message(e)))


def peak_memory_tools():
    """A fresh peak_memory_wrapper: defined inside a function so that cloudpickle ships it by value with stage 1's
    closure (executors need not import this script)."""

    def peak_memory_wrapper(tag):
        """(command prefix, function returning the peak RSS in KiB) for measuring a child's own peak memory.

        A child's rusage from wait4 is not it: on Linux, ru_maxrss keeps the high-water mark of the process that
        forked it (here a Python worker or the driver, hundreds of MiB) across exec. GNU time (/usr/bin/time), started
        from the same parent, reports the peak of its own child, which it forked small. Without GNU time the rusage
        figure is returned, marked as a floor of the parent's RSS."""
        time_bin = "/usr/bin/time"
        if not os.access(time_bin, os.X_OK):
            return [], lambda usage: (usage.ru_maxrss, "rusage (includes the forking Python process's RSS)")
        fd, path = tempfile.mkstemp(prefix="moat-%s-rss-" % tag)
        os.close(fd)

        def peak(usage):
            try:
                with open(path) as f:
                    text = f.read().split()
                os.unlink(path)
                return int(text[-1]), "GNU time"
            except (OSError, ValueError, IndexError):
                return usage.ru_maxrss, "rusage (includes the forking Python process's RSS)"
        return [time_bin, "-q", "-f", "%M", "-o", path], peak

    return peak_memory_wrapper


peak_memory_wrapper = peak_memory_tools()


def stage1_function(moat_name, extra_args, batch_rows=8192):
    """The mapInArrow function: pipes the partition's raw lines through `moat stage1` and returns its lines."""

    measure = peak_memory_tools()

    def run(batches):
        import pyarrow as pa
        from pyspark import SparkFiles

        binary = SparkFiles.get(moat_name)
        if not os.access(binary, os.X_OK):
            os.chmod(binary, 0o755)
        wrapper, peak = measure("stage1")
        proc = subprocess.Popen(wrapper + [binary, "stage1", "--out", "-"] + extra_args,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=1 << 20)
        failure = []
        lines_in = [0]

        def feed():
            try:
                for batch in batches:
                    col = batch.column(0)
                    values = col.to_pylist()
                    lines_in[0] += len(values)
                    proc.stdin.write(("\n".join(v if v is not None else "" for v in values) + "\n").encode("utf-8"))
                proc.stdin.close()
            except BaseException as e:  # the reader reports the process's own error
                failure.append(e)
                try:
                    proc.stdin.close()
                except BaseException:
                    pass

        errors = []
        err_thread = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
        err_thread.start()
        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        kinds, tss, ids, out = [], [], [], []

        def flush():
            b = pa.RecordBatch.from_arrays(
                [pa.array(kinds, pa.string()), pa.array(tss, pa.int64()), pa.array(ids, pa.string()), pa.array(out, pa.string())],
                names=["kind", "ts", "id", "line"])
            kinds.clear(); tss.clear(); ids.clear(); out.clear()
            return b

        for raw in proc.stdout:
            line = raw.decode("utf-8").rstrip("\n")
            if not line:
                continue
            f = line.split("\t", 3)
            kinds.append(f[0]); tss.append(int(f[1])); ids.append(f[2]); out.append(line)
            if len(out) >= batch_rows:
                yield flush()
        writer.join()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        rss, rss_source = peak(usage)  # also removes GNU time's file on failure
        err_thread.join()
        if proc.returncode != 0:
            raise RuntimeError("moat stage1 failed (exit %d): %s" % (proc.returncode, (errors[0] if errors else b"").decode("utf-8", "replace")[-2000:]))
        if failure:
            raise failure[0]
        # One metrics line per partition: the Swift process's CPU seconds and peak memory (KiB).
        kinds.append("M"); tss.append(lines_in[0]); ids.append("")
        out.append(json.dumps({"lines": lines_in[0], "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_kib": rss,
                               "maxrss_source": rss_source}))
        yield flush()

    return run


def spark_metrics(spark):
    """Sums of task metrics over the application's stages, and executors' peak memory, from Spark's REST API."""
    sc = spark.sparkContext
    url = sc.uiWebUrl
    if not url:
        return {}
    app = sc.applicationId
    try:
        stages = json.load(urllib.request.urlopen("%s/api/v1/applications/%s/stages?details=false" % (url, app), timeout=30))
        executors = json.load(urllib.request.urlopen("%s/api/v1/applications/%s/allexecutors" % (url, app), timeout=30))
    except Exception as e:  # metrics are a report, never a failure
        return {"error": str(e)}
    keys = ["executorRunTime", "executorCpuTime", "inputBytes", "inputRecords", "shuffleReadBytes", "shuffleWriteBytes",
            "shuffleWriteRecords", "outputBytes", "memoryBytesSpilled", "diskBytesSpilled", "peakExecutionMemory"]
    total = {k: 0 for k in keys}
    per_stage = []
    for s in stages:
        if s.get("status") != "COMPLETE":
            continue
        for k in keys:
            total[k] += s.get(k, 0) or 0
        per_stage.append({"id": s.get("stageId"), "name": s.get("name", "")[:80], "tasks": s.get("numCompleteTasks"),
                          "executorRunTime_ms": s.get("executorRunTime"), "shuffleWriteBytes": s.get("shuffleWriteBytes")})
    peak = []
    for e in executors:
        m = e.get("peakMemoryMetrics") or {}
        peak.append({"id": e.get("id"), "cores": e.get("totalCores"), "maxMemory": e.get("maxMemory"),
                     "JVMHeapMemory": m.get("JVMHeapMemory"), "JVMOffHeapMemory": m.get("JVMOffHeapMemory"),
                     "ProcessTreeJVMRSSMemory": m.get("ProcessTreeJVMRSSMemory"),
                     "ProcessTreePythonRSSMemory": m.get("ProcessTreePythonRSSMemory")})
    return {"totals": total, "stages": per_stage, "executors": peak}


def main(argv):
    args = parse_args(argv)
    moat = os.path.abspath(args.moat)
    started = time.time()
    # Workers run the same Python as the driver unless told otherwise (a cluster sets PYSPARK_PYTHON).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession, functions as F
    from pyspark import StorageLevel

    builder = SparkSession.builder.master(args.master).appName("moat-detect")
    builder = builder.config("spark.sql.execution.arrow.maxRecordsPerBatch", "4096")
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    builder = builder.config("spark.executor.processTreeMetrics.enabled", "true")
    confs = [kv.partition("=")[::2] for kv in args.conf]
    if args.jdbc or (args.accounts and is_database_url(args.accounts)):
        jar = jdbc_jar(args)
        if jar:
            jars = [v for k, v in confs if k == "spark.jars"]
            confs = [(k, v) for k, v in confs if k != "spark.jars"] + [("spark.jars", ",".join(jars + [jar]))]
    for k, v in confs:
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    sc = spark.sparkContext
    sc.addFile(moat)
    moat_name = os.path.basename(moat)
    partitions = args.partitions or sc.defaultParallelism

    work = args.work or tempfile.mkdtemp(prefix="moat-spark-")
    os.makedirs(work, exist_ok=True)
    try:
        # Reading: raw lines, so that Moat's own reader is the only parser of the contract.
        sources = []
        source_desc = {}
        if args.inputs and args.format == "jsonl":
            sources.append(spark.read.text(args.inputs))
        elif args.inputs:
            table = spark.read.parquet(*args.inputs)
            sources.append(table.select(F.to_json(F.struct(*[F.col(c) for c in table.columns])).alias("value")))
        if args.jdbc:
            frame, source_desc = read_jdbc(spark, args.jdbc, args.table, args.jdbc_partitions or partitions,
                                           args.partition_column, args.jdbc_option)
            sources.append(frame)
        raw = sources[0]
        for other in sources[1:]:
            raw = raw.unionAll(other)
        keyed = raw.select(F.col("value"), F.get_json_object("value", "$.account_id").alias("account"))
        by_account = keyed.repartition(partitions, "account").select("value")

        extra = (["--skip-invalid"] if args.skip_invalid else []) + [a for s in args.set for a in ("--set", s)]
        schema = "kind string, ts long, id string, line string"
        staged = by_account.mapInArrow(stage1_function(moat_name, extra), schema).persist(StorageLevel.MEMORY_AND_DISK)
        t1 = time.time()
        counts = {r["kind"]: r["count"] for r in staged.groupBy("kind").count().collect()}
        t_stage1 = time.time() - t1
        stage1_metrics = [json.loads(r["line"]) for r in staged.filter(F.col("kind") == "M").select("line").collect()]

        # Stage 2: the event-time order, the dictionary, the invalid-line counts.
        t2 = time.time()
        exchanges = staged.filter(F.col("kind") == "E").orderBy("ts", "id", "line").select("line")
        signatures = staged.filter(F.col("kind") == "S").dropDuplicates(["id"]).select("line")
        invalid = staged.filter(F.col("kind") == "I").select("line")
        side_dir = os.path.join(work, "side")
        signatures.union(invalid).coalesce(1).write.mode("overwrite").text(side_dir)
        exchanges_dir = os.path.join(work, "exchanges")
        if not args.collect:
            writer = exchanges.write.mode("overwrite")
            if args.work_compression != "none":
                writer = writer.option("compression", args.work_compression)
            writer.text(exchanges_dir)
        postings_summary = None
        if args.postings:
            postings_summary = postings_analysis(spark, staged, work)
        t_stage2 = time.time() - t2

        # Stage 3 on the driver.
        t3 = time.time()
        wrapper3, peak3 = peak_memory_wrapper("stage3")
        cmd = wrapper3 + [moat, "stage3", "--side", side_dir, "--out", args.out, "--quiet"]
        accounts = args.accounts
        if accounts and is_database_url(accounts):
            accounts = os.path.join(work, "accounts.jsonl")
            source_desc["accounts"] = accounts_from_store(spark, args.accounts, accounts, args.jdbc_option)
        if accounts:
            cmd += ["--accounts", accounts]
        for s in args.set:
            cmd += ["--set", s]
        unzip = None
        if args.collect:
            proc = subprocess.Popen(cmd + ["--exchanges", "-"], stdin=subprocess.PIPE, bufsize=1 << 20)
            for row in exchanges.toLocalIterator(prefetchPartitions=True):
                proc.stdin.write(row["line"].encode("utf-8") + b"\n")
            proc.stdin.close()
        else:
            # Spark names the parts part-NNNNN-...: name order is the sort's order, as `moat stage3` reads a directory.
            parts = sorted(n for n in os.listdir(exchanges_dir) if not n.startswith((".", "_")))
            if args.work_compression != "none" and parts:
                unzip = subprocess.Popen(["gzip", "-dc", "--"] + [os.path.join(exchanges_dir, n) for n in parts],
                                         stdout=subprocess.PIPE)
                proc = subprocess.Popen(cmd + ["--exchanges", "-"], stdin=unzip.stdout)
                unzip.stdout.close()
            else:
                proc = subprocess.Popen(cmd + ["--exchanges", exchanges_dir])
        _, wait_status, usage3 = os.wait4(proc.pid, 0)
        if unzip is not None and unzip.wait() != 0:
            raise SystemExit("gzip -dc of stage 2's output failed (exit %d)" % unzip.returncode)
        stage3_peak = peak3(usage3)
        status = proc.returncode = os.waitstatus_to_exitcode(wait_status)
        if status != 0:
            raise SystemExit("moat stage3 failed (exit %d)" % status)
        t_stage3 = time.time() - t3

        metrics = spark_metrics(spark)
        metrics.update({
            "master": args.master, "partitions": partitions, "exchanges": counts.get("E", 0), "records": counts,
            "wall_s": round(time.time() - started, 3), "stage1_s": round(t_stage1, 3), "stage2_s": round(t_stage2, 3),
            "stage3_s": round(t_stage3, 3), "stage1_processes": stage1_metrics, "postings": postings_summary, "source": source_desc or None,
            "stage3_process": dict(zip(("cpu_s", "maxrss_kib", "maxrss_source"),
                                       (usage3.ru_utime + usage3.ru_stime,) + stage3_peak)),
        })
        n = max(1, counts.get("E", 0))
        tot = metrics.get("totals", {})
        if tot:
            metrics["exchanges_per_executor_core_second"] = round(n / max(1e-9, tot["executorRunTime"] / 1000), 1)
            metrics["shuffle_bytes_per_exchange"] = round(tot["shuffleWriteBytes"] / n, 1)
        print("spark-detect: %d exchanges, %d partitions, stage 1 %.1f s, stage 2 %.1f s, stage 3 %.1f s, total %.1f s"
              % (counts.get("E", 0), partitions, t_stage1, t_stage2, t_stage3, time.time() - started), file=sys.stderr)
        if args.metrics:
            with open(args.metrics, "w") as f:
                json.dump(metrics, f, indent=2)
    finally:
        spark.stop()
        if not args.work and not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)


def postings_analysis(spark, staged, work):
    """Stage 2 on postings, for the analyst: holders and rarity per key, hot keys over their cap, and account pairs
    with the summed weight of the keys they share and the first time both held one. Not used by the report."""
    from pyspark.sql import functions as F
    f = F.split(F.col("line"), "\t")
    postings = staged.filter(F.col("kind") == "P").select(
        f.getItem(2).alias("account"), f.getItem(3).cast("int").alias("kind"), f.getItem(4).alias("value"),
        f.getItem(1).cast("long").alias("first_ts"), f.getItem(5).cast("long").alias("last_ts"),
        f.getItem(6).cast("long").alias("count"))
    population = max(1, postings.select("account").distinct().count())
    cap = 128
    keys = postings.groupBy("kind", "value").agg(F.count("*").alias("holders"), F.min("first_ts").alias("first_ts"),
                                                  F.max("last_ts").alias("last_ts"), F.sum("count").alias("exchanges"))
    keys = keys.withColumn("rarity", F.log(F.lit(float(population)) / F.col("holders")) / F.log(F.lit(float(max(2, population)))))
    keys = keys.withColumn("hot", F.col("holders") > cap)
    keys.write.mode("overwrite").parquet(os.path.join(work, "keys"))
    shared = postings.join(keys.filter((F.col("holders") >= 2) & ~F.col("hot")).select("kind", "value", "rarity"), ["kind", "value"])
    a, b = shared.alias("a"), shared.alias("b")
    pairs = (a.join(b, (F.col("a.kind") == F.col("b.kind")) & (F.col("a.value") == F.col("b.value")) & (F.col("a.account") < F.col("b.account")))
             .select(F.col("a.account").alias("a"), F.col("b.account").alias("b"), F.col("a.kind").alias("kind"), F.col("a.rarity").alias("w"),
                     F.greatest(F.col("a.first_ts"), F.col("b.first_ts")).alias("linked_at"))
             .groupBy("a", "b").agg(F.sum("w").alias("weight"), F.countDistinct("kind").alias("kinds"), F.min("linked_at").alias("first_linked_at")))
    pairs.write.mode("overwrite").parquet(os.path.join(work, "pairs"))
    k = spark.read.parquet(os.path.join(work, "keys"))
    return {"population": population, "keys": k.count(), "hot_keys": k.filter("hot").count(),
            "pairs": spark.read.parquet(os.path.join(work, "pairs")).count()}


if __name__ == "__main__":
    main(sys.argv[1:])
