import ArgumentParser

@main
struct Moat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moat",
        abstract: "Moat protects a model API from distillation attacks.",
        discussion: """
            Moat finds campaigns of accounts that extract a model's answers to train another model. \
            It replays exchange logs (`moat detect`), simulates realistic traffic with known truth \
            (`moat simulate`) and scores reports against that truth (`moat evaluate`).
            """,
        subcommands: [DemoCommand.self, SimulateCommand.self, DetectCommand.self, EvaluateCommand.self, ReportCommand.self,
                      ServeCommand.self, ReplayCommand.self, KeysCommand.self, AccountsCommand.self, ExportCommand.self,
                      MockUpstreamCommand.self, IntelCommand.self,
                      Stage1Command.self, Stage2Command.self, Stage3Command.self, SparkDetectCommand.self, ProvenanceCommand.self]
    )
}
