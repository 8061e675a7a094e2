// Two small open-addressing hash tables for the encode hot path. Swift's Dictionary would need an
// Array key per lookup (an allocation per pre-token) and SipHash per probe; these hash raw bytes /
// one 64-bit integer, never allocate on lookup and are built once at load time.

/// Map from a 64-bit key to a 64-bit value (BPE merges: pair of ids → rank and new id; trie edges).
/// Linear probing in a power-of-two table kept at most half full; `UInt64.max` marks an empty slot.
struct UInt64Table {
    private var keys: [UInt64]
    private var values: [UInt64]
    private var mask: Int
    private(set) var count = 0

    init(minimumCapacity: Int) {
        var size = 16
        while size < minimumCapacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: .max, count: size)
        values = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        // Fibonacci hashing: multiply by 2^64/phi, keep the high bits.
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// Inserts or replaces (the last insertion of a key wins, as in a Rust `collect` into a map).
    mutating func set(_ key: UInt64, _ value: UInt64) {
        precondition(key != .max, "UInt64Table: key UInt64.max is reserved")
        if (count + 1) * 2 > keys.count { grow() }
        var i = Self.slot(key, mask)
        while true {
            if keys[i] == .max {
                keys[i] = key
                values[i] = value
                count += 1
                return
            }
            if keys[i] == key {
                values[i] = value
                return
            }
            i = (i + 1) & mask
        }
    }

    @inline(__always)
    func get(_ key: UInt64) -> UInt64? {
        var i = Self.slot(key, mask)
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == .max { return nil }
            i = (i + 1) & mask
        }
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        let size = keys.count * 2
        keys = [UInt64](repeating: .max, count: size)
        values = [UInt64](repeating: 0, count: size)
        mask = size - 1
        count = 0
        for (k, v) in zip(oldKeys, oldValues) where k != .max {
            set(k, v)
        }
    }
}

/// Map from a byte string to a non-negative Int32 (vocabulary: token bytes → id). Keys live back to
/// back in one byte pool; slots hold (hash, offset, length, value). Lookups take a raw byte range.
struct ByteStringTable {
    private struct Slot {
        var hash: UInt32
        var length: Int32  // -1 marks an empty slot
        var offset: Int32
        var value: Int32
    }

    private var pool: [UInt8] = []
    private var slots: [Slot]
    private var mask: Int
    private(set) var count = 0

    init(minimumCapacity: Int) {
        var size = 16
        while size < minimumCapacity * 2 { size <<= 1 }
        slots = [Slot](repeating: Slot(hash: 0, length: -1, offset: 0, value: 0), count: size)
        mask = size - 1
    }

    /// FNV-1a over the bytes, finished with a multiply so short keys spread over the table.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes {
            h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3
        }
        h = (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
        return UInt32(truncatingIfNeeded: h >> 32)
    }

    /// Inserts `key → value`; returns false (and changes nothing) when the key is already present.
    @discardableResult
    mutating func insert(_ key: [UInt8], _ value: Int32) -> Bool {
        if (count + 1) * 2 > slots.count { grow() }
        let h = key.withUnsafeBytes { Self.hash($0) }
        if key.withUnsafeBytes({ lookup($0, hash: h) }) != nil { return false }
        var i = Int(h) & mask
        while slots[i].length >= 0 { i = (i + 1) & mask }
        slots[i] = Slot(hash: h, length: Int32(key.count), offset: Int32(pool.count), value: value)
        pool.append(contentsOf: key)
        count += 1
        return true
    }

    func lookup(_ key: [UInt8]) -> Int32? {
        key.withUnsafeBytes { lookup($0) }
    }

    func lookup(_ key: String) -> Int32? {
        var key = key
        return key.withUTF8 { lookup(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    func lookup(_ key: UnsafeRawBufferPointer) -> Int32? {
        lookup(key, hash: Self.hash(key))
    }

    func lookup(_ key: UnsafeRawBufferPointer, hash h: UInt32) -> Int32? {
        pool.withUnsafeBytes { poolBytes in
            slots.withUnsafeBufferPointer { s in
                var i = Int(h) & mask
                while true {
                    let slot = s[i]
                    if slot.length < 0 { return nil }
                    if slot.hash == h, Int(slot.length) == key.count {
                        let stored = UnsafeRawBufferPointer(rebasing: poolBytes[Int(slot.offset)..<Int(slot.offset) + key.count])
                        if key.count == 0 || memcmpEqual(stored, key) { return slot.value }
                    }
                    i = (i + 1) & mask
                }
            }
        }
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(hash: 0, length: -1, offset: 0, value: 0), count: old.count * 2)
        mask = slots.count - 1
        for slot in old where slot.length >= 0 {
            var i = Int(slot.hash) & mask
            while slots[i].length >= 0 { i = (i + 1) & mask }
            slots[i] = slot
        }
    }
}

@inline(__always)
func memcmpEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    for i in 0..<a.count where a[i] != b[i] { return false }
    return true
}
