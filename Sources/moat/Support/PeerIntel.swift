import Foundation
import MoatCore
import MoatDetect
import MoatIntel
import MoatStore
import MoatTAXII

/// `--intel`: peers' indicators for the detection engine, from stores and bundle files.
enum PeerIntel {
    /// The indicators of each source (a store filled by `moat intel pull`/`import`, or a STIX bundle or TAXII
    /// envelope file), every one kept whatever its validity: the matcher counts a match only inside it, at the
    /// event time of the exchange or sign-up.
    static func indicators(sources: [String]) throws -> [ReceivedIndicator] {
        var out: [ReceivedIndicator] = []
        var seen = Set<String>()
        for path in sources {
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationFailure(message: "--intel: no store or bundle at \(path)")
            }
            for i in try load(path) where seen.insert(i.source + "\u{0}" + i.id).inserted { out.append(i) }
        }
        return out
    }

    static func load(_ path: String) throws -> [ReceivedIndicator] {
        let handle = FileHandle(forReadingAtPath: path)
        let head = (try? handle?.read(upToCount: 16)) ?? nil
        try? handle?.close()
        // SQLite files start with "SQLite format 3"; anything else is taken as JSON.
        if let head, head.starts(with: Array("SQLite format 3".utf8)) {
            do {
                return try IntelImport.load(from: try MoatStore(path: path), nowMs: nil)
            } catch {
                throw ValidationFailure(message: "--intel: \(path): \(error)")
            }
        }
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ValidationFailure(message: "--intel: \(path): cannot read")
        }
        do {
            guard let objects = try JSONValue.parse(bytes)["objects"]?.array else {
                throw ValidationFailure(message: "--intel: \(path): not a store, STIX bundle or TAXII envelope (no `objects`)")
            }
            return ReceivedIndicator.indicators(in: objects, source: "file \((path as NSString).lastPathComponent)")
        } catch let error as JSONParseError {
            throw ValidationFailure(message: "--intel: \(path): \(error)")
        }
    }

    /// A feed for `Replay`, with the trust-group keys of `config` (when given). Says on standard error what
    /// cannot match (unsupported patterns, keys not held).
    static func feed(sources: [String], config: String?, accounts: [Account], detection: DetectionConfig) throws -> UncheckedFeed {
        let indicators = try indicators(sources: sources)
        var keys = KeyRing()
        if let config {
            do {
                keys = try IntelConfig.loadResolved(path: config).keyRing
            } catch {
                throw ValidationFailure(message: error.message)
            }
        }
        let feed = PeerFeed(indicators: indicators, keys: keys, accounts: accounts, detection: detection)
        for (i, why) in feed.matcher.unsupported { Console.error("intel: not matched: \(i.id) (\(i.source)): \(why)") }
        let missing = feed.matcher.missingKeys
        if !missing.isEmpty {
            Console.error("intel: no key for key id(s) \(missing.sorted().joined(separator: ", ")): their keyed indicators cannot match")
        }
        return UncheckedFeed(feed)
    }
}

/// The feed, owned by the replay's engine thread (the only one that touches it).
final class UncheckedFeed {
    var value: PeerFeed
    init(_ value: PeerFeed) { self.value = value }
}
