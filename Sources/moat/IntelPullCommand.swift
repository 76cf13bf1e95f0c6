import ArgumentParser
import Foundation
import MoatCore
import MoatIntel
import MoatStore
import MoatTAXII

struct IntelPullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Fetch a peer's TAXII collection and store its indicators.",
        discussion: """
            Pages through the collection (resuming after the last pull unless --full), keeps every STIX \
            indicator with its source (server and collection), TLP, confidence and validity, replaces older \
            versions, and drops indicators whose valid_until has passed. `moat intel match` uses them.
            """
    )

    @Option(help: "The peer's TAXII server: its discovery URL (…/taxii2/) or an API root URL.")
    var from: String

    @Option(help: "The collection id.")
    var collection: String

    @OptionGroup var credentials: PeerCredentialOptions

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Objects per page.")
    var pageSize: Int = 500

    @Flag(help: "Fetch the whole collection, not only what was added since the last pull.")
    var full = false

    @OptionGroup var asOf: AsOfOption

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    func validate() throws {
        guard pageSize >= 1 else { throw ValidationError("--page-size must be at least 1") }
    }

    func run() async throws {
        let store = try storeOptions.open(create: true)
        let client = TAXIIClient(credentials: try credentials.credentials())
        do {
            let root = try await client.apiRoot(for: from)
            let source = "\(root) collection \(collection)"
            let resume = full ? nil : try store.pullCursor(source: source)
            let bar = ProgressBar(label: "pull")
            let pulled = try await client.pull(apiRoot: root, collection: collection, addedAfter: resume, pageSize: pageSize) { n in
                bar.update(fraction: 0, detail: "\(Console.count(n)) objects")
            }
            bar.finish()
            let now = asOf.nowMs
            let outcome = try IntelImport.store(pulled.objects, source: source, into: store, nowMs: now)
            if let last = pulled.lastDateAdded { try store.savePullCursor(source: source, addedAfter: last) }
            let held = try store.receivedIndicators(validAtMs: now).filter { $0.source == source }.count
            if json {
                print(JSONValue.object([
                    ("source", .string(source)), ("pages", .int(pulled.pages)), ("objects", .int(outcome.objects)),
                    ("indicators", .int(outcome.indicators)), ("added", .int(outcome.added)), ("updated", .int(outcome.updated)),
                    ("expired", .int(outcome.expired)), ("unsupported", .int(outcome.unsupported)), ("purged", .int(outcome.purged)),
                    ("held", .int(held)), ("resumed_after", resume.map(JSONValue.string) ?? .null),
                ]).text)
            } else {
                print("\(outcome.objects) object(s) in \(pulled.pages) page(s) from \(source)" + (resume.map { " (added after \($0))" } ?? ""))
                print("\(outcome.indicators) indicator(s): \(outcome.added) new, \(outcome.updated) updated, \(outcome.expired) already expired (not kept)"
                      + (outcome.unsupported > 0 ? ", \(outcome.unsupported) with patterns Moat cannot evaluate" : ""))
                print("\(held) valid indicator(s) held from this source in \(store.path)" + (outcome.purged > 0 ? "; \(outcome.purged) expired one(s) purged" : ""))
            }
        } catch let error as IntelError {
            throw error.failure
        }
    }
}
