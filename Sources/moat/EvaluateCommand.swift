import ArgumentParser

struct EvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate", abstract: "TODO")
    func run() async throws {}
}
