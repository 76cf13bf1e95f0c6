import MoatCore
import MoatIntel
import MoatStore

extension ReceivedIndicator {
    /// The stored form: source, TLP, confidence, validity and the object itself.
    public func record(receivedAtMs: Int64) -> ReceivedIndicatorRecord {
        ReceivedIndicatorRecord(source: source, id: id, version: version, versionMicros: STIXTime.micros(version) ?? 0,
                                tlp: tlp?.rawValue, confidence: confidence, producer: producer,
                                validFromMs: validFrom?.milliseconds, validUntilMs: validUntil?.milliseconds,
                                receivedAtMs: receivedAtMs, json: object.text)
    }

    /// Back from the stored form; nil if the stored object no longer parses as an indicator.
    public init?(record r: ReceivedIndicatorRecord) {
        guard let object = try? JSONValue.parse(r.json) else { return nil }
        var identities: [String: String] = [:]
        if let by = object["created_by_ref"]?.string, let producer = r.producer { identities[by] = producer }
        self.init(object: object, source: r.source, identities: identities)
    }
}

/// Storing what a pull brought: the indicators, with their source; expired ones are not kept.
public enum IntelImport {
    public struct Outcome: Sendable, Equatable {
        public var objects = 0
        public var indicators = 0
        public var added = 0
        public var updated = 0
        public var expired = 0
        public var unsupported = 0
        public var purged = 0
    }

    public static func store(_ objects: [JSONValue], source: String, into storage: any IntelStorage, nowMs: Int64) throws -> Outcome {
        var outcome = Outcome()
        outcome.objects = objects.count
        let indicators = ReceivedIndicator.indicators(in: objects, source: source)
        outcome.indicators = indicators.count
        var records: [ReceivedIndicatorRecord] = []
        for i in indicators {
            if i.isExpired(at: Timestamp(milliseconds: nowMs)) {
                outcome.expired += 1
                continue
            }
            if i.parsed == nil { outcome.unsupported += 1 }
            records.append(i.record(receivedAtMs: nowMs))
        }
        (outcome.added, outcome.updated) = try storage.saveReceivedIndicators(records)
        outcome.purged = try storage.purgeExpiredIndicators(beforeMs: nowMs)
        return outcome
    }

    /// The stored indicators still valid at `nowMs`, ready for `IndicatorMatcher`.
    public static func load(from storage: any IntelStorage, nowMs: Int64?) throws -> [ReceivedIndicator] {
        try storage.receivedIndicators(validAtMs: nowMs).compactMap(ReceivedIndicator.init(record:))
    }
}
