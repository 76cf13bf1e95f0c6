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
            runs `moat stage3` on the driver. Arguments after `--` go to the driver script (see its --help).
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

    @Argument(parsing: .postTerminator, help: "More arguments for the driver script.")
    var extra: [String] = []

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
        args += extra
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
