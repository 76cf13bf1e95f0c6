/// Counts the exchanges and distinct accounts behind each value of one kind (a network prefix, an ASN, a
/// client stack), bounded in memory whatever the log holds.
///
/// Values are counted exactly up to `maxValues` distinct ones; exchanges with further values are counted
/// as `otherExchanges`. Distinct accounts per value are exact while the (value, account) pairs fit in
/// `maxPairs`; after that the counts are lower bounds and `accountsAreLowerBounds` is set.
public struct ValueTally: Sendable {
    public struct Row: Sendable, Equatable {
        public var value: String
        public var exchanges: Int
        public var accounts: Int
    }

    public private(set) var rows: [Row] = []
    /// Exchanges whose value came after the table was full.
    public private(set) var otherExchanges = 0
    /// Exchanges that did not carry this field.
    public private(set) var missing = 0
    /// Whether some values were not itemised (the table was full).
    public var valuesOverflowed: Bool { otherExchanges > 0 }
    public private(set) var accountsAreLowerBounds = false

    private var index: [String: Int32] = [:]
    private var pairs: Set<UInt64> = []
    private let maxValues: Int
    private let maxPairs: Int

    public init(maxValues: Int, maxPairs: Int) {
        self.maxValues = max(1, maxValues)
        self.maxPairs = max(0, maxPairs)
    }

    /// Registers a value before the log is read (a reported indicator), so that it is itemised even with
    /// zero exchanges and even if the table fills before it shows up.
    public mutating func register(_ value: String) {
        guard index[value] == nil else { return }
        index[value] = Int32(rows.count)
        rows.append(Row(value: value, exchanges: 0, accounts: 0))
    }

    /// Counts one exchange of `account` with `value` (nil: the exchange did not carry it).
    public mutating func add(_ value: String?, account: Int32) {
        guard let value else {
            missing += 1
            return
        }
        let slot: Int32
        if let known = index[value] {
            slot = known
        } else {
            guard rows.count < maxValues else {
                otherExchanges += 1
                return
            }
            slot = Int32(rows.count)
            index[value] = slot
            rows.append(Row(value: value, exchanges: 0, accounts: 0))
        }
        rows[Int(slot)].exchanges += 1
        let pair = UInt64(UInt32(bitPattern: slot)) << 32 | UInt64(UInt32(bitPattern: account))
        if pairs.count < maxPairs {
            if pairs.insert(pair).inserted { rows[Int(slot)].accounts += 1 }
        } else if !pairs.contains(pair) {
            accountsAreLowerBounds = true
        }
    }

    /// The row of one value, if it was counted.
    public func row(_ value: String) -> Row? {
        index[value].map { rows[Int($0)] }
    }

    /// The `n` values held by the most accounts (then the most exchanges, then by value).
    public func top(_ n: Int) -> [Row] {
        Array(rows.filter { $0.exchanges > 0 }.sorted {
            ($0.accounts, $0.exchanges) != ($1.accounts, $1.exchanges)
                ? ($0.accounts, $0.exchanges) > ($1.accounts, $1.exchanges) : $0.value < $1.value
        }.prefix(n))
    }

    /// Distinct values itemised with at least one exchange.
    public var distinctValues: Int { rows.reduce(0) { $0 + ($1.exchanges > 0 ? 1 : 0) } }
    /// Exchanges that carried a value.
    public var exchanges: Int { rows.reduce(otherExchanges) { $0 + $1.exchanges } }
}

/// Counts of a small closed-ish set of labels (status codes, countermeasures, outcomes), bounded.
public struct CategoryCounts: Sendable, Equatable {
    public private(set) var counts: [String: Int] = [:]
    public private(set) var other = 0
    private let maxKeys: Int

    public init(maxKeys: Int) { self.maxKeys = max(1, maxKeys) }

    public mutating func add(_ key: String, _ n: Int = 1) {
        if counts[key] != nil || counts.count < maxKeys {
            counts[key, default: 0] += n
        } else {
            other += n
        }
    }

    public var total: Int { counts.values.reduce(other, +) }
    public var isEmpty: Bool { counts.isEmpty && other == 0 }

    /// Most frequent first, then by key.
    public var sorted: [(key: String, count: Int)] {
        counts.map { (key: $0.key, count: $0.value) }.sorted { $0.count != $1.count ? $0.count > $1.count : $0.key < $1.key }
    }
}
