/// Where shared intelligence lives: the TAXII server's collections, the status of writes to them, and
/// the indicators pulled from peers. A small interface, so the same server runs on the embedded SQLite
/// store (`MoatStore`) and on a shared database later.
///
/// Times are integers: `dateAdded` in microseconds since the Unix epoch (TAXII pages by it, and two
/// objects added in one millisecond must still be ordered), object versions and validity in
/// milliseconds unless named otherwise.
public protocol IntelStorage: Sendable {
    /// Adds objects to their collections. An object already present in the same version is left as it
    /// was (TAXII: adding the same version again succeeds without change). Returns, per record, whether
    /// it was new.
    func addIntelObjects(_ records: [IntelObjectRecord]) throws -> [Bool]
    /// A page of objects of one collection, in the order they were added.
    func intelObjects(_ query: IntelObjectQuery) throws -> IntelPage
    /// Deletes the matching versions of one object; returns how many were deleted.
    func deleteIntelObject(collection: String, id: String, versions: IntelVersionFilter, specVersions: [String]?) throws -> Int
    func saveIntelStatus(_ status: IntelStatusRecord) throws
    func intelStatus(id: String) throws -> IntelStatusRecord?

    /// Stores indicators received from a peer; a newer version replaces an older one from the same
    /// source. Returns how many were new and how many replaced an older version.
    func saveReceivedIndicators(_ records: [ReceivedIndicatorRecord]) throws -> (added: Int, updated: Int)
    /// The received indicators still valid at `asOfMs` (all when nil), oldest first.
    func receivedIndicators(validAtMs asOfMs: Int64?) throws -> [ReceivedIndicatorRecord]
    /// Deletes received indicators whose `valid_until` is at or before `beforeMs`; returns how many.
    func purgeExpiredIndicators(beforeMs: Int64) throws -> Int
    /// The `added_after` to resume a pull from a source with (the last page's date added), if any.
    func pullCursor(source: String) throws -> String?
    func savePullCursor(source: String, addedAfter: String) throws
}

/// One version of one STIX object in one collection.
public struct IntelObjectRecord: Sendable, Equatable {
    public var collection: String
    public var id: String
    public var type: String
    /// `modified`, or `created`, or the date added for objects that have neither (as written).
    public var version: String
    /// The version in microseconds since the epoch, for ordering.
    public var versionMicros: Int64
    public var specVersion: String
    /// The TLP level, by rank (0 clear … 4 red), that the server enforces for this object.
    public var tlpRank: Int
    /// When the server added it, microseconds since the epoch; filled in by `addIntelObjects`.
    public var dateAddedMicros: Int64
    /// The object's JSON text.
    public var json: String
    /// Insertion order (the pagination cursor); filled in by the store.
    public var sequence: Int64

    public init(collection: String, id: String, type: String, version: String, versionMicros: Int64, specVersion: String,
                tlpRank: Int, json: String, dateAddedMicros: Int64 = 0, sequence: Int64 = 0) {
        self.collection = collection
        self.id = id
        self.type = type
        self.version = version
        self.versionMicros = versionMicros
        self.specVersion = specVersion
        self.tlpRank = tlpRank
        self.json = json
        self.dateAddedMicros = dateAddedMicros
        self.sequence = sequence
    }
}

/// TAXII's `match[version]`.
public enum IntelVersionFilter: Sendable, Equatable {
    case last, first, all
    /// Specific versions, in microseconds; may be combined with `last` and `first`.
    case some(micros: [Int64], last: Bool, first: Bool)
}

/// A query on one collection (TAXII 2.1 section 3.4: `added_after`, `match[...]`, `limit`, `next`).
public struct IntelObjectQuery: Sendable, Equatable {
    public var collection: String
    public var addedAfterMicros: Int64?
    public var ids: [String]?
    public var types: [String]?
    public var versions: IntelVersionFilter
    public var specVersions: [String]?
    /// Only objects whose TLP rank is at most this (the collection's audience).
    public var maxTLPRank: Int
    /// Continue after this sequence number (the `next` of the previous page).
    public var afterSequence: Int64?
    public var limit: Int

    public init(collection: String, addedAfterMicros: Int64? = nil, ids: [String]? = nil, types: [String]? = nil,
                versions: IntelVersionFilter = .last, specVersions: [String]? = nil, maxTLPRank: Int = 4,
                afterSequence: Int64? = nil, limit: Int = 100) {
        self.collection = collection
        self.addedAfterMicros = addedAfterMicros
        self.ids = ids
        self.types = types
        self.versions = versions
        self.specVersions = specVersions
        self.maxTLPRank = maxTLPRank
        self.afterSequence = afterSequence
        self.limit = limit
    }
}

public struct IntelPage: Sendable, Equatable {
    public var records: [IntelObjectRecord]
    /// More records match after this page.
    public var more: Bool
}

/// A TAXII status resource as stored: who may read it and its JSON.
public struct IntelStatusRecord: Sendable, Equatable {
    public var id: String
    /// The peer that made the request (only it may read the status).
    public var owner: String
    public var json: String

    public init(id: String, owner: String, json: String) {
        self.id = id
        self.owner = owner
        self.json = json
    }
}

/// An indicator pulled from a peer, with its source, TLP and validity.
public struct ReceivedIndicatorRecord: Sendable, Equatable {
    /// The peer's server and collection (`https://taxii.lab-a.example/api1/ collection 3f0c…`).
    public var source: String
    public var id: String
    public var version: String
    public var versionMicros: Int64
    /// `clear`, `green`, `amber`, `amber+strict`, `red`; nil when unmarked.
    public var tlp: String?
    public var confidence: Int?
    public var producer: String?
    public var validFromMs: Int64?
    public var validUntilMs: Int64?
    public var receivedAtMs: Int64
    public var json: String

    public init(source: String, id: String, version: String, versionMicros: Int64, tlp: String?, confidence: Int?,
                producer: String?, validFromMs: Int64?, validUntilMs: Int64?, receivedAtMs: Int64, json: String) {
        self.source = source
        self.id = id
        self.version = version
        self.versionMicros = versionMicros
        self.tlp = tlp
        self.confidence = confidence
        self.producer = producer
        self.validFromMs = validFromMs
        self.validUntilMs = validUntilMs
        self.receivedAtMs = receivedAtMs
        self.json = json
    }
}
