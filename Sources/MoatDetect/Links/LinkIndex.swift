#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Accounts grouped by what they share, and the weighted links between pairs of accounts.
///
/// Each shared value (an IP, a card, a template...) links a new holder to the holders before it, with a
/// weight that falls as the value becomes common. Only pairs with hard evidence (infrastructure, identity)
/// are stored: a pair without any can never join two accounts, and soft values (client stacks, prompt
/// families, request shapes) shared by hundreds of accounts would otherwise fill memory with such pairs
/// (three in four pairs on `standard`). A pair's soft evidence is counted when its first hard link
/// arrives, from the soft values the two accounts share then. A value held by more accounts than its kind's cap
/// stops linking, so the work per exchange stays bounded however long the log is.
struct LinkIndex {
    struct Value {
        var kind: LinkKind
        var members: [Int32] = []
        var common = false
    }

    struct Pair {
        var hard: Float = 0
        var soft: Float = 0
        var kinds: UInt16 = 0
        /// Hard kinds that contributed at least one substantial link.
        var strongHardKinds: UInt16 = 0
        static let identityKinds: UInt16 = (1 << UInt16(LinkKind.payment.rawValue)) | (1 << UInt16(LinkKind.emailDomain.rawValue))
            | (1 << UInt16(LinkKind.signupBurst.rawValue)) | (1 << UInt16(LinkKind.peerIndicator.rawValue))
        static let familyKinds: UInt16 = (1 << UInt16(LinkKind.clientStack.rawValue)) | (1 << UInt16(LinkKind.systemPrompt.rawValue))
            | (1 << UInt16(LinkKind.template.rawValue)) | (1 << UInt16(LinkKind.requestShape.rawValue))

        /// Family kinds that contributed at least one substantial link.
        var strongFamilyKinds: UInt16 = 0
        /// Distinct network values (IPs, prefixes) the two share. (Declared here, next to `authored`: the
        /// pair then packs into 16 bytes instead of 20, and the engine keeps millions of pairs.)
        var networkValues: UInt8 = 0
        /// The two share text an operator wrote (a system-prompt family or a prompt's framing), substantially.
        var authored = false

        var hasIdentity: Bool { strongHardKinds & Self.identityKinds != 0 }
        var familyKindCount: Int { strongFamilyKinds.nonzeroBitCount }
    }

    var values: [UInt64: Value] = [:]
    var labels: [UInt64: String] = [:]
    var pairs: [UInt64: Pair] = [:]

    static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 {
        let (lo, hi) = a < b ? (a, b) : (b, a)
        return UInt64(UInt32(bitPattern: lo)) << 32 | UInt64(UInt32(bitPattern: hi))
    }

    /// Rarity of a value held by `holders` of `population` accounts: 1 when two accounts share it, ~0 when
    /// nearly everyone does.
    ///
    /// `population` is the number of accounts to measure against (at least a floor, so the first accounts of a
    /// replay do not look rare merely because few were seen); `seen` is how many there really are: a value that
    /// most of them hold is common however small the log.
    static func rarity(holders: Int, population: Double, seen: Int) -> Double {
        let n = max(population, 2)
        let base = log(1 + n / Double(max(holders, 2))) / log(1 + n / 2)
        let commonness = seen > 0 ? min(1, Double(holders) / Double(seen)) : 0
        return max(0, min(1, base * (1 - commonness * commonness)))
    }

    /// Adds `account` as a holder of `key`. Calls `link` for each earlier holder with the link weight.
    mutating func add(_ account: Int32, key: UInt64, kind: LinkKind, label: () -> String, cap: Int,
                      weight: (Int) -> Double, link: (Int32, Double) -> Void) {
        if values[key] == nil {
            values[key] = Value(kind: kind)
            labels[key] = label()
        }
        // Mutate in place through the dictionary's accessor: copying `members` would cost O(holders).
        Self.join(&values[key, default: Value(kind: kind)], account, cap: cap, weight: weight, link: link)
    }

    private static func join(_ v: inout Value, _ account: Int32, cap: Int, weight: (Int) -> Double,
                             link: (Int32, Double) -> Void) {
        if v.common { return }
        let w = weight(v.members.count + 1)
        if w > 0 { for m in v.members { link(m, w) } }
        v.members.append(account)
        if v.members.count > cap {
            v.common = true
            v.members = []
        }
    }

    /// Creates the pair of `a` and `b` (there is none yet) from `seed` plus one link; returns its totals.
    mutating func create(_ a: Int32, _ b: Int32, seed: Pair, kind: LinkKind, weight: Double, strong: Double,
                         authored: Bool = false) -> Pair {
        var p = seed
        let totals = Self.add(&p, kind: kind, weight: weight, strong: strong, authored: authored)
        pairs[Self.pairKey(a, b)] = p
        return totals
    }

    /// Adds weight to a pair only if it exists (in place: one hash lookup); nil when it does not.
    mutating func strengthenExisting(_ a: Int32, _ b: Int32, kind: LinkKind, weight: Double, strong: Double,
                                     authored: Bool = false) -> Pair? {
        guard let at = pairs.index(forKey: Self.pairKey(a, b)) else { return nil }
        return Self.add(&pairs.values[at], kind: kind, weight: weight, strong: strong, authored: authored)
    }

    static func add(_ p: inout Pair, kind: LinkKind, weight: Double, strong: Double, authored: Bool) -> Pair {
        if kind.isHard { p.hard += Float(weight) } else { p.soft += Float(weight) }
        if kind.isHard, weight >= strong { p.strongHardKinds |= 1 << UInt16(kind.rawValue) }
        if kind == .ip || kind == .cloudPrefix { p.networkValues &+= p.networkValues < 255 ? 1 : 0 }
        if kind.isFamily, weight >= strong { p.strongFamilyKinds |= 1 << UInt16(kind.rawValue) }
        if authored, weight >= strong { p.authored = true }
        p.kinds |= 1 << UInt16(kind.rawValue)
        return p
    }
}
