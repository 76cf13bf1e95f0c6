import Foundation
import HTTPTypes
import Hummingbird
import MoatCore
import MoatIntel
import MoatStore
import NIOCore

extension TAXIIServer {
    func query(_ request: Request, _ c: ResolvedIntelConfig.ResolvedCollection, ids: [String]? = nil,
               versions: IntelVersionFilter = .last) throws -> IntelObjectQuery {
        var q = try TAXIIQuery(TAXIIQuery.parameters(request.uri.query), collection: c.id, maxTLPRank: c.tlpMax.rank,
                               defaultLimit: config.server.defaultPageSize, maxLimit: config.server.maxPageSize,
                               defaultVersions: versions).query
        if let ids { q.ids = ids }
        return q
    }

    /// `X-TAXII-Date-Added-First` and `-Last` of a page.
    func pageHeaders(_ records: [IntelObjectRecord]) -> HTTPFields {
        guard let first = records.first, let last = records.last else { return [:] }
        return [
            HTTPField.Name("X-TAXII-Date-Added-First")!: STIXTime.format(micros: first.dateAddedMicros),
            HTTPField.Name("X-TAXII-Date-Added-Last")!: STIXTime.format(micros: last.dateAddedMicros),
        ]
    }

    /// An envelope written from the stored JSON texts, without parsing them again.
    func envelope(_ page: IntelPage) -> [UInt8] {
        var out: [UInt8] = Array("{\"more\":\(page.more)".utf8)
        if page.more, let last = page.records.last { out += Array(",\"next\":\"\(last.sequence)\"".utf8) }
        if !page.records.isEmpty {
            out += Array(",\"objects\":[".utf8)
            for (i, r) in page.records.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out += Array(r.json.utf8)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    func objects(_ request: Request, _ context: TAXIIRequestContext) async throws -> Response {
        let c = try readable(context)
        let q = try query(request, c)
        let page = try await blocking { try storage.intelObjects(q) }
        return TAXIIMedia.response(.ok, json: envelope(page), headers: pageHeaders(page.records))
    }

    func object(_ request: Request, _ context: TAXIIRequestContext) async throws -> Response {
        let c = try readable(context)
        let id = try context.parameters.require("object")
        let q = try query(request, c, ids: [id])
        let page = try await blocking { try storage.intelObjects(q) }
        guard !page.records.isEmpty || q.afterSequence != nil else { throw TAXIIError.notFound("no object \(id) in collection \(c.id)") }
        return TAXIIMedia.response(.ok, json: envelope(page), headers: pageHeaders(page.records))
    }

    func manifest(_ request: Request, _ context: TAXIIRequestContext) async throws -> Response {
        let c = try readable(context)
        let q = try query(request, c)
        let page = try await blocking { try storage.intelObjects(q) }
        var members: [(String, JSONValue)] = [("more", .bool(page.more))]
        if page.more, let last = page.records.last { members.append(("next", .string(String(last.sequence)))) }
        if !page.records.isEmpty {
            members.append(("objects", .array(page.records.map { r in
                .object([("id", .string(r.id)), ("date_added", .string(STIXTime.format(micros: r.dateAddedMicros))),
                         ("version", .string(r.version)), ("media_type", .string(TAXIIMedia.stix))])
            })))
        }
        return TAXIIMedia.response(.ok, .object(members), headers: pageHeaders(page.records))
    }

    func versions(_ request: Request, _ context: TAXIIRequestContext) async throws -> Response {
        let c = try readable(context)
        let id = try context.parameters.require("object")
        let q = try query(request, c, ids: [id], versions: .all)
        let page = try await blocking { try storage.intelObjects(q) }
        guard !page.records.isEmpty || q.afterSequence != nil else { throw TAXIIError.notFound("no object \(id) in collection \(c.id)") }
        var members: [(String, JSONValue)] = [("more", .bool(page.more))]
        if page.more, let last = page.records.last { members.append(("next", .string(String(last.sequence)))) }
        members.append(("versions", .array(page.records.map { .string($0.version) })))
        return TAXIIMedia.response(.ok, .object(members), headers: pageHeaders(page.records))
    }

    func delete(_ request: Request, _ context: TAXIIRequestContext) async throws -> Response {
        let c = try readable(context, write: true)
        guard c.canRead(peerID(context)), c.canWrite(peerID(context)) else {
            throw TAXIIError.forbidden("deleting needs both read and write rights on collection \(c.id)")
        }
        let id = try context.parameters.require("object")
        let q = try query(request, c, ids: [id], versions: .all)
        let versions = q.versions, specs = q.specVersions
        let n = try await blocking { try storage.deleteIntelObject(collection: c.id, id: id, versions: versions, specVersions: specs) }
        guard n > 0 else { throw TAXIIError.notFound("no object \(id) in collection \(c.id)") }
        logger.notice("taxii delete", metadata: ["collection": "\(c.id)", "object": "\(id)", "versions": "\(n)", "peer": "\(peerID(context) ?? "-")"])
        return TAXIIMedia.response(.ok, json: [])
    }
}
