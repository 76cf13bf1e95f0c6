import Crypto
import Foundation
import MoatCore
import MoatStore
import Synchronization

/// A presented API key's SHA-256: how keys are stored, cached and compared. Never the secret itself.
struct KeyDigest: Hashable, Sendable {
    var a: UInt64, b: UInt64, c: UInt64, d: UInt64

    init<D: Digest>(_ digest: D) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        digest.withUnsafeBytes { raw in
            words = (raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                     raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        }
        (a, b, c, d) = words
    }

    /// Digest of the UTF-8 bytes of a presented secret.
    init(secret: String) {
        var s = secret
        self = s.withUTF8 { KeyDigest(SHA256.hash(data: UnsafeRawBufferPointer($0))) }
    }

    /// Parses the store's lowercase hex form.
    init?(hex: String) {
        let bytes = Array(hex.utf8)
        guard bytes.count == 64 else { return nil }
        var words: [UInt64] = []
        for w in 0..<4 {
            var v: UInt64 = 0
            for i in 0..<16 {
                let c = bytes[w * 16 + i]
                let n: UInt8
                switch c {
                case 48...57: n = c - 48
                case 97...102: n = c - 87
                default: return nil
                }
                // The store's hex is in byte order; rebuild each little-endian word byte by byte.
                let byte = i / 2, high = i % 2 == 0
                v |= UInt64(n) << UInt64(byte * 8 + (high ? 4 : 0))
            }
            words.append(v)
        }
        (a, b, c, d) = (words[0], words[1], words[2], words[3])
    }

    /// Lowercase hex, as the store keeps it.
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for w in [a, b, c, d] {
            for byte in 0..<8 {
                let v = UInt8(truncatingIfNeeded: w >> UInt64(byte * 8))
                out.append(digits[Int(v >> 4)])
                out.append(digits[Int(v & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// What a request needs to know about its key, resolved when the key is first looked up and reused.
struct KeyEntry: Sendable {
    let record: APIKeyRecord
    let keySubject: RateLimiter.SubjectID
    let accountSubject: RateLimiter.SubjectID
    /// From the account directory, as of `directoryVersion`.
    var identity: Account?
    var org: String?
    var orgSubject: RateLimiter.SubjectID?
    /// Index in the gateway's `TierTable` by program and verification (not throttled).
    var tier: Int
    var directoryVersion: Int
}

/// API keys by digest: valid ones (until revoked) and a bounded set of digests known to be invalid.
///
/// Memory is bounded whatever clients send: entries are keyed by the 32-byte digest, not the presented
/// string; valid entries exist only for keys in the store; the invalid set keeps the most recent
/// `negativeCapacity` digests and forgets the oldest. A miss is looked up in the store off the event
/// loop (`Gateway.lookUpKey`). Revocations apply at once through the admin API and within
/// `accounts_refresh_seconds` when made by another process (`moat keys revoke`).
final class KeyCache: Sendable {
    enum Lookup {
        case valid(KeyEntry)
        case invalid
        case unknown
    }

    static let negativeCapacity = 65_536
    static let positiveCapacity = 200_000

    private struct State {
        var valid: [KeyDigest: KeyEntry] = [:]
        var invalid: Set<KeyDigest> = []
        /// Ring of the invalid digests in insertion order, for eviction.
        var invalidOrder: [KeyDigest] = []
        var invalidNext = 0
    }

    private let state = Mutex(State())
    let negativeCapacity: Int

    init(negativeCapacity: Int = KeyCache.negativeCapacity) { self.negativeCapacity = negativeCapacity }

    func lookup(_ digest: KeyDigest) -> Lookup {
        state.withLock { s in
            if let e = s.valid[digest] { return .valid(e) }
            return s.invalid.contains(digest) ? .invalid : .unknown
        }
    }

    func storeValid(_ digest: KeyDigest, _ entry: KeyEntry) {
        state.withLock { s in
            if s.valid.count >= Self.positiveCapacity { s.valid.removeAll(keepingCapacity: true) }
            s.valid[digest] = entry
            s.invalid.remove(digest)
        }
    }

    func storeInvalid(_ digest: KeyDigest) {
        state.withLock { s in
            guard s.invalid.insert(digest).inserted else { return }
            if s.invalidOrder.count < negativeCapacity {
                s.invalidOrder.append(digest)
            } else {
                s.invalid.remove(s.invalidOrder[s.invalidNext])
                s.invalidOrder[s.invalidNext] = digest
                s.invalidNext = (s.invalidNext + 1) % negativeCapacity
            }
        }
    }

    /// Replaces a valid entry (after its account's directory data changed).
    func update(_ digest: KeyDigest, _ entry: KeyEntry) {
        state.withLock { s in if s.valid[digest] != nil { s.valid[digest] = entry } }
    }

    /// Forgets a key (revoked): its next request is looked up again.
    func remove(_ digest: KeyDigest) {
        _ = state.withLock { $0.valid.removeValue(forKey: digest) }
    }

    /// Forgets every valid key (a key was revoked by id through the admin API).
    func invalidate() { state.withLock { $0.valid.removeAll() } }

    var counts: (valid: Int, invalid: Int) { state.withLock { ($0.valid.count, $0.invalid.count) } }
}
