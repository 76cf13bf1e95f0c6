import ArgumentParser
import Hummingbird
import Logging
import MoatGateway
import MoatTesting

struct MockUpstreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-upstream",
        abstract: "Serve a deterministic mock of the OpenAI and Anthropic APIs.",
        discussion: """
            Answers POST /v1/chat/completions and POST /v1/messages, streaming or not, with text derived \
            from the last user message and realistic usage; GET /health answers ok. Request headers \
            x-mock-error: <status>, x-mock-latency-ms, x-mock-chunk-delay-ms and x-mock-words steer it. \
            Runs until SIGINT or SIGTERM.
            """
    )

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = 9100

    @Flag(help: "Run request tasks on Swift's global thread pool instead of NIO's event loops.")
    var noEventLoopTasks = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
    }

    func run() async throws {
        if !noEventLoopTasks { GatewayRuntime.runTasksOnEventLoops() }
        var logger = Logger(label: "moat.mock-upstream")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let app = MockUpstream().application(host: host, port: port, logger: logger)
        try await app.runService()
    }
}
