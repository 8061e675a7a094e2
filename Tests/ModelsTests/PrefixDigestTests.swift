// The prefix cache compares prompt rows by 128-bit digests of their bytes (it keeps 16 bytes per
// row, not the previous prompt's inputs): identical rows agree, a row that differs in one bit
// anywhere does not, and the shared prefix stops at the first differing row.
import Testing
@testable import Models

@Suite struct PrefixDigestTests {
    @Test func digestsFindTheSharedPrefix() {
        let D = 24, L = 10
        let a = (0 ..< L * D).map { Float($0 % 97) * 0.37 - 3 }
        let da = PromptPrefixCache.rowDigests(a, width: D)
        #expect(da.count == L)
        #expect(PromptPrefixCache.rowDigests(a, width: D) == da, "deterministic within a process")
        #expect(PromptPrefixCache.commonRows(da, da, limit: L - 1) == L - 1)
        // One bit flipped in every position of row 6 in turn: rows 0 ..< 6 still shared.
        for c in 0 ..< D {
            for bit in [0, 22, 31] {
                var b = a
                b[6 * D + c] = Float(bitPattern: b[6 * D + c].bitPattern ^ (1 << UInt32(bit)))
                let db = PromptPrefixCache.rowDigests(b, width: D)
                #expect(PromptPrefixCache.commonRows(da, db, limit: L - 1) == 6, "column \(c) bit \(bit)")
            }
        }
        // -0 and +0 are different bytes, so different rows (bit-identical inputs only).
        var z = a
        z[0] = 0
        var nz = a
        nz[0] = -0.0
        #expect(PromptPrefixCache.commonRows(PromptPrefixCache.rowDigests(z, width: D), PromptPrefixCache.rowDigests(nz, width: D), limit: L) == 0)
        // A shorter prompt shares at most its own rows.
        #expect(PromptPrefixCache.commonRows(da, Array(da.prefix(3)), limit: L) == 3)
    }
}
