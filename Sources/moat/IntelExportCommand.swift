import ArgumentParser
import Foundation
import MoatCore
import MoatIntel

struct IntelExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a STIX 2.1 bundle from a detection report.",
        discussion: """
            The bundle holds the producing organisation's identity, a campaign per detected campaign (an \
            intrusion-set when campaign memory ties several to one operator), the MITRE ATLAS techniques they \
            use, indicators (network prefixes, autonomous systems, client stacks, fingerprints of system \
            prompts and prompt families), keyed hashes of identifiers (account ids, exact IPs, payment \
            fingerprints, e-mail domains) under the trust group's key, and sightings, every object marked \
            with the TLP 2.0 level of --tlp. With --exchanges (read twice) the indicators come from the \
            log, each with its sighting, and values that ordinary accounts use too are left out; --accounts \
            adds sign-up identifiers. Below TLP:RED no identifier appears in clear.
            """
    )

    @Option(help: "Detection report (contract section 4), or - for standard input.")
    var report: String

    @Option(help: "The exchange log the report was made from (JSON Lines; read twice).")
    var exchanges: String?

    @Option(help: "The accounts file (JSON Lines): payment fingerprints and e-mail domains of campaign accounts.")
    var accounts: String?

    @Option(help: "TLP 2.0 level of every object: \(TLPArgument.allCases.map(\.rawValue).joined(separator: ", ")).")
    var tlp: TLPArgument

    @Option(help: "Where to write the bundle (- for standard output).")
    var out: String

    @OptionGroup var intel: IntelConfigOptions

    @Option(help: "The trust group whose key hashes identifiers (default: the configuration's only group with a key).")
    var trustGroup: String?

    @Option(help: "The producing organisation's name (default: the configuration's organisation).")
    var org: String?

    @Option(help: "ATLAS techniques as references to ATLAS's ids (passes stix2_validator --strict) or also as attack-pattern objects with those ids (the validator then reports {103} on them): \(ATLASArgument.allCases.map(\.rawValue).joined(separator: ", ")).")
    var atlas: ATLASArgument = .references

    @Flag(help: "Also share identifiers in clear (TLP:RED only).")
    var rawIdentifiers = false

    @Flag(help: "Skip invalid lines of the exchange log instead of stopping.")
    var skipInvalid = false

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        if rawIdentifiers, tlp != .red { throw ValidationError("--raw-identifiers needs --tlp red") }
        if exchanges == "-" { throw ValidationError("--exchanges must be a file: it is read twice") }
    }

    func run() throws {
        let started = Date()
        let config = try intel.load()
        let report = try ReportInput.read(self.report)
        let producer: Producer
        if let org {
            producer = Producer(name: org, contact: config?.organisation?.contact)
        } else if let p = config?.organisation {
            producer = p
        } else {
            producer = Producer(name: "Moat operator")
            Console.error("note: no organisation configured (--org or `organisation:` in --config); the bundle names its producer \"Moat operator\"")
        }
        let key = try chooseKey(config)
        var digest: ExchangeDigest?
        if let exchanges {
            digest = try digestLog(exchanges, report: report)
        }
        var identities: [Account] = []
        if let accounts {
            do {
                identities = try readAccounts(path: accounts, skipInvalid: skipInvalid)
            } catch {
                throw ValidationFailure(message: error.description)
            }
        }
        let settings = ExportSettings(tlp: tlp.tlp, producer: producer, key: key, atlas: atlas.mode, rawIdentifiers: rawIdentifiers)
        let exported: ExportedBundle
        do {
            exported = try BundleBuilder(report: report, settings: settings, digest: digest, accounts: identities).build()
        } catch {
            throw error.failure
        }
        try OutputFile.write(exported.bundle.pretty(), to: out)
        let s = exported.summary
        if json {
            let summary: JSONValue = .object([
                ("out", .string(out)), ("tlp", .string(tlp.rawValue)), ("key_id", key.map { .string($0.keyID) } ?? .null),
                ("objects", .object(s.objects.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
                ("indicators", .object(s.indicators.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
                ("keyed_values", .int(s.keyedValues)), ("withheld_common", .int(s.withheldCommon)), ("withheld_no_key", .int(s.withheldNoKey)),
            ])
            print(summary.text)
        } else if out != "-" {
            let total = s.objects.values.reduce(0, +)
            print("\(total) objects (\(tlp.tlp.label)) written to \(out) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
            for (type, n) in s.objects.sorted(by: { $0.key < $1.key }) { print("  \(type.padding(toLength: 22, withPad: " ", startingAt: 0)) \(n)") }
            if !s.indicators.isEmpty {
                print("indicators:")
                for (kind, n) in s.indicators.sorted(by: { $0.key < $1.key }) { print("  \(kind.padding(toLength: 28, withPad: " ", startingAt: 0)) \(n)") }
            }
            if s.keyedValues > 0 { print("\(s.keyedValues) identifier(s) as keyed hashes under key \(key?.keyID ?? "-")") }
            if s.withheldCommon > 0 { print("\(s.withheldCommon) value(s) withheld: ordinary accounts use them too") }
            if s.withheldNoKey > 0 { print("\(s.withheldNoKey) identifier(s) withheld: no trust-group key") }
        }
    }

    /// The key for keyed hashes: the named group's, the configuration's only one, or `$MOAT_INTEL_KEY`
    /// (with `$MOAT_INTEL_KEY_ID`); failing those, a one-off key nobody else holds.
    func chooseKey(_ config: ResolvedIntelConfig?) throws -> TrustGroupKey? {
        if let trustGroup {
            guard let key = config?.currentKeys[trustGroup] else {
                throw ValidationFailure(message: "--trust-group \(trustGroup): no such trust group with a key in --config")
            }
            return key
        }
        if let keys = config?.currentKeys, keys.count == 1 { return keys.first!.value }
        if let keys = config?.currentKeys, keys.count > 1 {
            throw ValidationFailure(message: "--config has \(keys.count) trust groups with keys (\(keys.keys.sorted().joined(separator: ", "))); choose one with --trust-group")
        }
        let env = ProcessInfo.processInfo.environment
        if let text = env["MOAT_INTEL_KEY"], !text.isEmpty {
            guard let bytes = TrustGroupKey.decodeSecret(text) else {
                throw ValidationFailure(message: "$MOAT_INTEL_KEY is not a key (64 hex digits; make one with `moat intel key generate`)")
            }
            do {
                return try TrustGroupKey(group: "env", keyID: env["MOAT_INTEL_KEY_ID"] ?? "env", secret: bytes)
            } catch {
                throw error.failure
            }
        }
        let secret = TrustGroupKey.generateSecret()
        let keyID = "one-off-" + String(secret.prefix(8))
        Console.error("note: no trust-group key (--config trust_groups, or $MOAT_INTEL_KEY); identifiers are hashed under a one-off key (\(keyID)) that nobody else holds, so no peer can match them")
        return try? TrustGroupKey(group: "one-off", keyID: keyID, secret: TrustGroupKey.decodeSecret(secret)!)
    }

    /// Two passes over the log: campaign traffic, then how many ordinary accounts used the same values.
    func digestLog(_ path: String, report: Report) throws -> ExchangeDigest {
        var digest = ExchangeDigest(report: report)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
        do {
            for pass in 1...2 {
                let bar = ProgressBar(label: "exchanges \(pass)/2")
                let reader = try ExchangeReader(path: path, skipInvalid: skipInvalid,
                                                fields: pass == 1 || digest.needsSystemPromptsInPassTwo ? .all : .withoutText)
                var n = 0
                while let e = try reader.next() {
                    if pass == 1 { digest.collect(e) } else { digest.countOthers(e) }
                    n += 1
                    if n % 8192 == 0 { bar.update(fraction: size > 0 ? Double(reader.bytesRead) / Double(size) : 0, detail: "\(Console.count(n)) exchanges") }
                }
                bar.finish()
                if pass == 1 { for e in reader.firstErrors { Console.error("skipped: \(e)") } }
            }
        } catch {
            throw ValidationFailure(message: "\(error)")
        }
        return digest
    }
}
