import ArgumentParser
import MoatIntel

struct IntelKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Trust-group keys for keyed hashes.",
        subcommands: [Generate.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new 256-bit trust-group key (64 hex digits) from the system's secure generator.",
            discussion: "Give it to the group's members over a channel you trust, with a new key_id; see the README."
        )

        func run() { print(TrustGroupKey.generateSecret()) }
    }
}
