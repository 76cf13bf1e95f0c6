import Foundation
import Hummingbird
import MoatCore
import MoatIntel
import MoatStore
import NIOCore

extension TAXIIServer {
    /// The version of an unversioned object (an SCO without `modified` or `created`): a constant, so that
    /// adding the same content-derived object again is the same version (TAXII 2.1 section 3.5 lets the
    /// server choose a consistent value).
    static let unversioned = "1970-01-01T00:00:00.000Z"

    /// What one posted object is, or why it is refused.
    enum Checked {
        case accepted(IntelObjectRecord)
        case refused(id: String?, version: String?, reason: String)
    }

    /// Checks one posted object against the collection: a STIX object with a valid id, and a TLP marking
    /// no higher than the collection's `tlp_max`. Objects without a TLP marking count as
    /// `server.unmarked_as`, except marking and extension definitions, which are public by nature.
    func check(_ o: JSONValue, collection c: ResolvedIntelConfig.ResolvedCollection) -> Checked {
        guard o.members != nil else { return .refused(id: nil, version: nil, reason: "not a JSON object") }
        guard let id = o["id"]?.string, let type = STIXIdentifier.type(of: id) else {
            return .refused(id: o["id"]?.string, version: nil, reason: "`id` is not a STIX identifier (type--UUID)")
        }
        guard o["type"]?.string == type else { return .refused(id: id, version: nil, reason: "`type` does not match the id's type") }
        let version = o["modified"]?.string ?? o["created"]?.string ?? Self.unversioned
        guard let versionMicros = STIXTime.micros(version) else {
            return .refused(id: id, version: version, reason: "`modified`/`created` is not an RFC 3339 timestamp")
        }
        let tlp: TLP
        if let marked = TLP(object: o) {
            tlp = marked
        } else if type == "marking-definition" || type == "extension-definition" {
            tlp = .clear
        } else {
            tlp = config.server.unmarkedAs
        }
        guard tlp <= c.tlpMax else {
            return .refused(id: id, version: version, reason: "marked \(tlp.label), above this collection's \(c.tlpMax.label): its audience (\(c.audience)) is wider than \(tlp.label) allows")
        }
        let spec = o["spec_version"]?.string ?? "2.1"
        return .accepted(IntelObjectRecord(collection: c.id, id: id, type: type, version: version, versionMicros: versionMicros,
                                           specVersion: spec, tlpRank: tlp.rank, json: o.text))
    }

    /// POST objects: an envelope `{"objects": [...]}` (a STIX bundle is accepted too). Every object is
    /// checked, the accepted ones are stored in one transaction, and the answer is a complete status
    /// resource (202) listing successes and failures with reasons; the status stays readable by the peer.
    func add(_ request: Request, _ context: TAXIIRequestContext) async throws -> Response {
        let c = try readable(context, write: true)
        guard case .peer(let peer) = context.caller, c.canWrite(peer) else {
            throw TAXIIError.forbidden("peer \(peerID(context) ?? "-") may not write to collection \(c.id)")
        }
        let max = config.server.maxContentLength
        if let length = request.headers[.contentLength].flatMap(Int.init), length > max {
            throw TAXIIError(.contentTooLarge, "Content Too Large", "the body has \(length) bytes; this API root accepts at most \(max)")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: max)
        } catch {
            throw TAXIIError(.contentTooLarge, "Content Too Large", "the body is larger than \(max) bytes")
        }
        let requestTime = STIXTime.format(micros: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down)))
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(Array(buffer: body))
        } catch {
            throw TAXIIError.badRequest("the body is not JSON: \(error)")
        }
        guard let objects = parsed["objects"]?.array else {
            throw TAXIIError.badRequest("the body is not a TAXII envelope: it needs an `objects` array")
        }
        var accepted: [IntelObjectRecord] = []
        var failures: [JSONValue] = []
        for o in objects {
            switch check(o, collection: c) {
            case .accepted(let r): accepted.append(r)
            case .refused(let id, let version, let reason):
                failures.append(.fields(["id": .string(id ?? "(none)"), "version": version.map(JSONValue.string), "message": .string(reason)]))
            }
        }
        let stored = accepted
        _ = try await blocking { try storage.addIntelObjects(stored) }
        let successes: [JSONValue] = accepted.map { .object([("id", .string($0.id)), ("version", .string($0.version))]) }
        let statusID = UUID().uuidString.lowercased()
        let status: JSONValue = .object([
            ("id", .string(statusID)), ("status", "complete"), ("request_timestamp", .string(requestTime)),
            ("total_count", .int(objects.count)), ("success_count", .int(successes.count)), ("successes", .array(successes)),
            ("failure_count", .int(failures.count)), ("failures", .array(failures)), ("pending_count", 0), ("pendings", []),
        ])
        let record = IntelStatusRecord(id: statusID, owner: peer, json: status.text)
        try await blocking { try storage.saveIntelStatus(record) }
        logger.notice("taxii add", metadata: [
            "collection": "\(c.id)", "peer": "\(peer)", "objects": "\(objects.count)", "accepted": "\(accepted.count)",
            "refused": "\(failures.count)",
        ])
        return TAXIIMedia.response(.accepted, status)
    }
}
