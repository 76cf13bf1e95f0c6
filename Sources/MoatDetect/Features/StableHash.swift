/// FNV-1a 64: stable across runs and platforms (unlike `Hasher`), so reports are reproducible.
struct StableHash {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    init() {}
    init(seed: UInt64) { value ^= seed &* 0x9E37_79B9_7F4A_7C15 }

    mutating func add(_ byte: UInt8) { value = (value ^ UInt64(byte)) &* 0x100_0000_01B3 }
    mutating func add(_ s: String) { for b in s.utf8 { add(b) } }
    mutating func add(_ v: UInt64) {
        var x = v
        for _ in 0..<8 { add(UInt8(truncatingIfNeeded: x)); x >>= 8 }
    }

    static func of(_ s: String, seed: UInt64 = 0) -> UInt64 {
        var h = StableHash(seed: seed)
        h.add(s)
        return h.value
    }

    /// A finalizer that spreads bits (for MinHash permutations).
    @inline(__always) static func mix(_ x0: UInt64) -> UInt64 {
        var x = x0
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 31)
    }
}
