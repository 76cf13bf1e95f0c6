import Foundation
import Hummingbird
import MoatIntel
import MoatStore

/// The filters of a TAXII GET on objects, manifest or versions (TAXII 2.1 section 3.4), parsed from
/// the query string: `added_after`, `limit`, `next`, `match[id]`, `match[type]`, `match[version]`,
/// `match[spec_version]`. Bad values are a 400 that names the parameter.
struct TAXIIQuery {
    var query: IntelObjectQuery

    init(_ parameters: [(String, String)], collection: String, maxTLPRank: Int, defaultLimit: Int, maxLimit: Int,
         defaultVersions: IntelVersionFilter = .last) throws(TAXIIError) {
        var q = IntelObjectQuery(collection: collection, versions: defaultVersions, maxTLPRank: maxTLPRank, limit: defaultLimit)
        for (key, v) in parameters {
            switch key {
            case "added_after":
                guard let us = STIXTime.micros(v) else { throw .badRequest("added_after: `\(v)` is not an RFC 3339 timestamp") }
                q.addedAfterMicros = us
            case "limit":
                guard let n = Int(v), n >= 1 else { throw .badRequest("limit: `\(v)` is not a positive integer") }
                q.limit = min(n, maxLimit)
            case "next":
                guard let seq = Int64(v), seq >= 0 else { throw .badRequest("next: `\(v)` is not a value this server gave") }
                q.afterSequence = seq
            case "match[id]": q.ids = Self.list(v)
            case "match[type]": q.types = Self.list(v)
            case "match[spec_version]": q.specVersions = Self.list(v)
            case "match[version]":
                var micros: [Int64] = [], last = false, first = false, all = false
                for item in Self.list(v) {
                    switch item {
                    case "last": last = true
                    case "first": first = true
                    case "all": all = true
                    default:
                        guard let us = STIXTime.micros(item) else {
                            throw .badRequest("match[version]: `\(item)` is not last, first, all or a timestamp")
                        }
                        micros.append(us)
                    }
                }
                q.versions = all ? .all : micros.isEmpty && last && !first ? .last : micros.isEmpty && first && !last ? .first
                    : .some(micros: micros, last: last, first: first)
            default:
                if key.hasPrefix("match[") { throw .badRequest("\(key) is not a filter this server supports (id, type, version, spec_version)") }
            }
        }
        query = q
    }

    /// The query string's parameters, names and values percent-decoded (clients send `match%5Bid%5D`).
    static func parameters(_ query: String?) -> [(String, String)] {
        guard let query, !query.isEmpty else { return [] }
        return query.split(separator: "&").map { item in
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let k = String(kv[0]), v = kv.count > 1 ? String(kv[1]) : ""
            return (k.removingPercentEncoding ?? k, v.removingPercentEncoding ?? v)
        }
    }

    static func list(_ v: String) -> [String] {
        v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
