import ArgumentParser
import Foundation
import MoatIntel
import MoatTAXII

struct IntelImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Store the indicators of a STIX bundle received outside TAXII (e-mail, a MISP export).",
        discussion: """
            Keeps every STIX indicator of BUNDLE with --source as its source, its TLP, confidence and validity, \
            exactly as `moat intel pull` does: newer versions replace older ones, expired ones are not kept.
            """
    )

    @Argument(help: "A STIX 2.1 bundle or TAXII envelope.")
    var bundle: String

    @Option(help: "Where it came from, as matches will name it (e.g. \"lab-a e-mail 2026-04-22\").")
    var source: String

    @OptionGroup var storeOptions: StoreOptions

    @OptionGroup var asOf: AsOfOption

    func run() throws {
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: bundle)))
        } catch {
            throw ValidationFailure(message: "\(bundle): cannot read")
        }
        let objects: [JSONValue]
        do {
            guard let list = try JSONValue.parse(bytes)["objects"]?.array else {
                throw ValidationFailure(message: "\(bundle): not a STIX bundle or TAXII envelope (no `objects`)")
            }
            objects = list
        } catch let error as JSONParseError {
            throw ValidationFailure(message: "\(bundle): \(error)")
        }
        let store = try storeOptions.open(create: true)
        let outcome = try IntelImport.store(objects, source: source, into: store, nowMs: asOf.nowMs)
        print("\(outcome.indicators) indicator(s) in \(outcome.objects) object(s): \(outcome.added) new, \(outcome.updated) updated, "
              + "\(outcome.expired) already expired (not kept)" + (outcome.unsupported > 0 ? ", \(outcome.unsupported) Moat cannot evaluate" : ""))
    }
}
