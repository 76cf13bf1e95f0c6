import ArgumentParser

struct DetectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "detect", abstract: "TODO")
    func run() async throws {}
}
