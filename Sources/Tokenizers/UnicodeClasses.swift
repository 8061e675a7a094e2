// Character classes of the pre-tokenizer regex, looked up per Unicode scalar.
//
// The sets come from UnicodeClassTable.swift, which is generated from the `tokenizers` library's own
// regex engine (Oniguruma), so \p{L}, \p{N} and \s mean here exactly what they mean there — not what
// the Unicode version of Swift's standard library says.
//
// Lookup: one byte of flags per scalar. The Basic Multilingual Plane (U+0000...U+FFFF, where nearly
// all text lives) is a 64 KiB direct table; other planes binary-search the sorted ranges.

struct ScalarClasses: Sendable {
    static let letter: UInt8 = 1      // \p{L}
    static let number: UInt8 = 2      // \p{N}
    static let whitespace: UInt8 = 4  // \s (Oniguruma, Unicode: White_Space)

    /// Flags of U+0000...U+FFFF.
    let bmp: [UInt8]
    /// Ranges above U+FFFF: parallel arrays of first, last and flags, sorted by first.
    let astralFirst: [UInt32]
    let astralLast: [UInt32]
    let astralFlags: [UInt8]

    static let shared = ScalarClasses()

    private init() {
        var bmp = [UInt8](repeating: 0, count: 0x10000)
        var astral: [(UInt32, UInt32, UInt8)] = []
        let tables: [([UInt32], UInt8)] = [
            (UnicodeClassTable.letterRanges, Self.letter),
            (UnicodeClassTable.numberRanges, Self.number),
            (UnicodeClassTable.whitespaceRanges, Self.whitespace),
        ]
        for (ranges, flag) in tables {
            for r in stride(from: 0, to: ranges.count, by: 2) {
                let first = ranges[r], last = ranges[r + 1]
                if first <= 0xFFFF {
                    for v in first...min(last, 0xFFFF) { bmp[Int(v)] |= flag }
                }
                if last > 0xFFFF {
                    astral.append((max(first, 0x10000), last, flag))
                }
            }
        }
        astral.sort { $0.0 < $1.0 }
        self.bmp = bmp
        astralFirst = astral.map { $0.0 }
        astralLast = astral.map { $0.1 }
        astralFlags = astral.map { $0.2 }
    }

    /// Flags of a scalar value (0 for "anything else": punctuation, symbols, marks, controls...).
    @inline(__always)
    func flags(_ v: UInt32) -> UInt8 {
        if v < 0x10000 { return bmp.withUnsafeBufferPointer { $0[Int(v)] } }
        return astralLookup(v)
    }

    private func astralLookup(_ v: UInt32) -> UInt8 {
        // Last range whose first <= v; the sets do not overlap, so it is the only candidate.
        var lo = 0, hi = astralFirst.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if astralFirst[mid] <= v { lo = mid + 1 } else { hi = mid }
        }
        let i = lo - 1
        return i >= 0 && v <= astralLast[i] ? astralFlags[i] : 0
    }
}
