import ArgumentParser
import Foundation

/// `moat spark-detect`: the staged engine on Apache Spark, through the checked-in PySpark driver
/// (scripts/spark/moat_spark.py), with this binary shipped to the executors for stage 1.
struct SparkDetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spark-detect",
        abstract: "Detect on Apache Spark: the same report as `moat detect`, with stage 1 on Spark's executors.",
        discussion: """
            Runs scripts/spark/moat_spark.py with a Python that has pyspark (--python, or $MOAT_PYTHON, or python3): \
            it reads the log (JSON Lines files or directories, gzip too, or Parquet), partitions it by account, runs \
            `moat stage1` on the executors through mapInArrow, orders the exchange lines in Spark SQL (stage 2) and \
            runs `moat stage3` on the driver.
            """
    )

    @Argument(help: "Exchange logs: JSON Lines files or directories (.gz too), or Parquet with --format parquet.")
    var inputs: [String]

    @Option(help: "Accounts file (JSON Lines).")
    var accounts: String?

    @Option(help: "Where to write the report JSON.")
    var out: String

    @Option(help: "Spark master URL (local[*], local[2], spark://host:7077, yarn, k8s://...).")
    var master = "local[*]"

    @Option(help: "Partitions of the log for stage 1 (default: Spark's default parallelism).")
    var partitions: Int?

    @Option(help: "Input format: jsonl or parquet.")
    var format = "jsonl"

    @Option(help: "Python with pyspark (default: $MOAT_PYTHON, else python3).")
    var python: String?

    @Option(help: "The driver script (default: scripts/spark/moat_spark.py next to the sources, or $MOAT_SPARK_DRIVER).")
    var driver: String?

    @Flag(help: "Skip and count invalid lines instead of stopping.")
    var skipInvalid = false

    @Option(help: "Write Spark's task metrics and the Swift processes' CPU time and peak memory (JSON) here.")
    var metrics: String?

    @Option(help: "Work directory for stage 2's output (on a cluster: a path the driver can read; default: a temporary one).")
    var work: String?

    /// How stage 2 writes its ordered lines to the work directory.
    enum WorkCompression: String, ExpressibleByArgument, CaseIterable {
        case gzip, none
    }

    @Option(help: "How stage 2 writes its ordered lines to --work: gzip (about a fifth of the size; stage 3 reads them through `gzip -dc`) or none.")
    var workCompression: WorkCompression = .gzip

    @Flag(help: "Stream the ordered lines to stage 3 through the driver instead of through --work.")
    var collect = false

    @Flag(help: "Also aggregate postings in Spark SQL (key holders, hot keys, weighted pairs) into --work.")
    var postings = false

    @Option(help: ArgumentHelp("Extra Spark configuration (repeatable).", valueName: "key=value"))
    var conf: [String] = []

    @Option(name: .customLong("set"), help: ArgumentHelp("Override an engine tunable, as for `moat detect` (repeatable).",
                                                         valueName: "name=value"))
    var settings: [String] = []

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let binDir = me.deletingLastPathComponent().path
        let candidates = [driver, env["MOAT_SPARK_DRIVER"],
                          binDir + "/../../../scripts/spark/moat_spark.py",
                          binDir + "/../share/moat/moat_spark.py",
                          FileManager.default.currentDirectoryPath + "/scripts/spark/moat_spark.py"].compactMap { $0 }
        guard let script = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw ValidationFailure(message: "cannot find the Spark driver (moat_spark.py); give --driver or set MOAT_SPARK_DRIVER")
        }
        var args = [script, "--moat", me.path, "--master", master, "--format", format, "--out", out]
        if let accounts { args += ["--accounts", accounts] }
        if let partitions { args += ["--partitions", String(partitions)] }
        if skipInvalid { args.append("--skip-invalid") }
        if let metrics { args += ["--metrics", metrics] }
        if let work { args += ["--work", work] }
        args += ["--work-compression", workCompression.rawValue]
        if collect { args.append("--collect") }
        if postings { args.append("--postings") }
        for c in conf { args += ["--conf", c] }
        for s in settings { args += ["--set", s] }
        args.append("--")
        args += inputs
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python ?? env["MOAT_PYTHON"] ?? "python3"] + args
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationFailure(message: "the Spark driver failed (exit \(process.terminationStatus))")
        }
    }
}
