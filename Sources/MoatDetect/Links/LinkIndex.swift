#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Accounts grouped by what they share, and the weighted links between pairs of accounts.
///
/// Each shared value (an IP, a card, a template...) links a new holder to the holders before it, with a
/// weight that falls as the value becomes common. A value held by more accounts than its kind's cap
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
    static func rarity(holders: Int, population: Double) -> Double {
        let n = max(population, 2)
        return max(0, min(1, log(1 + n / Double(max(holders, 2))) / log(1 + n / 2)))
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

    /// Adds weight to a pair; returns the pair's totals.
    mutating func strengthen(_ a: Int32, _ b: Int32, kind: LinkKind, weight: Double, strong: Double) -> Pair {
        let key = Self.pairKey(a, b)
        var p = pairs[key] ?? Pair()
        if kind.isHard { p.hard += Float(weight) } else { p.soft += Float(weight) }
        if kind.isHard, weight >= strong { p.strongHardKinds |= 1 << UInt16(kind.rawValue) }
        p.kinds |= 1 << UInt16(kind.rawValue)
        pairs[key] = p
        return p
    }
}
