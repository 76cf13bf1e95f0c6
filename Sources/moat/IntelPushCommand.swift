import ArgumentParser
import Foundation
import MoatIntel
import MoatTAXII

struct IntelPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Add a bundle's objects to a TAXII 2.1 collection.",
        discussion: "Posts the objects of BUNDLE to the collection and prints the status the server returns."
    )

    @Argument(help: "A STIX bundle (as `moat intel export` writes) or a TAXII envelope.")
    var bundle: String

    @Option(help: "The TAXII server: its discovery URL (…/taxii2/) or an API root URL.")
    var to: String

    @Option(help: "The collection id.")
    var collection: String

    @OptionGroup var credentials: PeerCredentialOptions

    func run() async throws {
        let text: [UInt8]
        do {
            text = Array(try Data(contentsOf: URL(fileURLWithPath: bundle)))
        } catch {
            throw ValidationFailure(message: "\(bundle): cannot read")
        }
        let objects: [JSONValue]
        do {
            guard let list = try JSONValue.parse(text)["objects"]?.array else {
                throw ValidationFailure(message: "\(bundle): not a bundle or envelope (no `objects`)")
            }
            objects = list
        } catch let error as JSONParseError {
            throw ValidationFailure(message: "\(bundle): \(error)")
        }
        let client = TAXIIClient(credentials: try credentials.credentials())
        do {
            let root = try await client.apiRoot(for: to)
            let status = try await client.push(apiRoot: root, collection: collection, objects: objects)
            let ok = status["success_count"]?.int ?? 0, failed = status["failure_count"]?.int ?? 0
            print("\(ok) of \(objects.count) object(s) added to collection \(collection) at \(root) (status \(status["id"]?.string ?? "-"), \(status["status"]?.string ?? "?"))")
            for f in status["failures"]?.array ?? [] {
                print("  refused \(f["id"]?.string ?? "-"): \(f["message"]?.string ?? "")")
            }
            if failed > 0 { throw ExitCode(2) }
        } catch let error as IntelError {
            throw error.failure
        }
    }
}
