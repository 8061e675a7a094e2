// The two kernel options the Llama decoder uses (Models calls the tested kernels, no copies):
// half-split RoPE from a position offset is the table-offset rotation, and one-row attention
// with the caller's score scratch is bit-identical to the allocating path.
import Testing
import Tensors

@Suite struct DecoderKernelTests {
    @Test func ropeHalfSplitFromAnOffsetUsesThoseTableRows() {
        let T = 5, H = 3, D = 16, p0 = 7, stride = 2 * H * D + 3
        var rng = SeededRandom(seed: 11)
        let x = rng.normals(T * stride)
        let inv = Rope.llama3InvFreq(headDim: D, theta: 500000, factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192)
        let full = Rope.halfSplitTable(invFreq: inv, positions: Array(0 ..< 16))
        let shifted = Rope.halfSplitTable(invFreq: inv, positions: Array(p0 ..< p0 + T))
        var a = x, b = x
        a.withUnsafeMutableBufferPointer { Kernels.ropeHalfSplit($0.baseAddress!, rowStride: stride, rows: T, heads: H, table: full, firstPosition: p0) }
        b.withUnsafeMutableBufferPointer { Kernels.ropeHalfSplit($0.baseAddress!, rowStride: stride, rows: T, heads: H, table: shifted) }
        #expect(a == b)
        #expect(a != x)
    }

    @Test func oneRowAttentionWithScratchIsBitIdentical() {
        let H = 8, Hkv = 2, D = 16, S = 37, kv = Hkv * D
        var rng = SeededRandom(seed: 5)
        let q = rng.normals(H * D), k = rng.normals(S * kv), v = rng.normals(S * kv)
        let layout = AttentionLayout(qRowStride: 3 * H * D, kRowStride: kv, vRowStride: kv, outRowStride: H * D)
        var plain = [Float](repeating: 0, count: H * D), scratched = plain
        var scratch = [Float](repeating: .nan, count: H * S)
        plain.withUnsafeMutableBufferPointer { o in
            Kernels.attention(q: q, k: k, v: v, out: o.baseAddress!, layout: layout, queries: 1, keys: S, heads: H, kvHeads: Hkv,
                              headDim: D, scale: 0.25, causalOffset: S - 1)
        }
        scratched.withUnsafeMutableBufferPointer { o in
            scratch.withUnsafeMutableBufferPointer { s in
                Kernels.attention(q: q, k: k, v: v, out: o.baseAddress!, layout: layout, queries: 1, keys: S, heads: H, kvHeads: Hkv,
                                  headDim: D, scale: 0.25, causalOffset: S - 1, scoreScratch: s.baseAddress!)
            }
        }
        #expect(plain == scratched)
        #expect(plain.allSatisfy { $0.isFinite })
    }
}
