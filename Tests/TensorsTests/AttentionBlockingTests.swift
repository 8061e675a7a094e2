// The fused attention on long key ranges (issue 12 point 2): keys come in L2-sized blocks
// (gk_attention_block), so these shapes span several blocks at every SIMD level. Against the
// Double twin (causal prefill with a cache offset, GQA, odd lengths, non-causal), and bit for bit
// against itself when the query rows are split differently (prefix reuse and chunked prefill rely
// on a row's result not depending on the rows run with it).
import CKernels
import Tensors
import Testing

extension VectorMathTests {
    static func attention(_ q: [Float], _ k: [Float], _ v: [Float], queries T: Int, keys S: Int, heads H: Int, kvHeads Hkv: Int,
                          headDim D: Int, causalOffset: Int?, twin: Bool = false) -> [Float] {
        var out = [Float](repeating: 0, count: T * H * D)
        let layout = AttentionLayout(qRowStride: H * D, kRowStride: Hkv * D, vRowStride: Hkv * D, outRowStride: H * D)
        let scale = 1 / Float(D).squareRoot()
        q.withUnsafeBufferPointer { qb in k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
            out.withUnsafeMutableBufferPointer {
                if twin {
                    Reference.attention(q: qb.baseAddress!, k: kb.baseAddress!, v: vb.baseAddress!, out: $0.baseAddress!, layout: layout,
                                        queries: T, keys: S, heads: H, kvHeads: Hkv, headDim: D, scale: scale, causalOffset: causalOffset)
                } else {
                    Kernels.attention(q: qb.baseAddress!, k: kb.baseAddress!, v: vb.baseAddress!, out: $0.baseAddress!, layout: layout,
                                      queries: T, keys: S, heads: H, kvHeads: Hkv, headDim: D, scale: scale, causalOffset: causalOffset)
                }
            }
        } } }
        return out
    }

    @Test(arguments: levels) func fusedAttentionOverSeveralKeyBlocks(level: Int32) {
        var rng = SeededRandom(seed: UInt64(level) + 91)
        // (T, S, H, Hkv, D, causal offset): prefill rows after a long cache, a whole causal prompt
        // longer than two key blocks, non-causal (vision) attention over many keys.
        for (T, S, H, Hkv, D, offset) in [(70, 1400, 4, 2, 64, 1330 as Int?), (300, 1301, 2, 1, 32, 1001), (133, 133, 2, 2, 16, 0),
                                          (21, 1100, 2, 2, 32, nil)] {
            let lanes = atLevel(level) { Int(gk_attention_lanes()) }
            if D % lanes != 0 { continue }
            let q = rng.normals(T * H * D), k = rng.normals(S * Hkv * D), v = rng.normals(S * Hkv * D)
            let fused = atLevel(level) {
                Self.attention(q, k, v, queries: T, keys: S, heads: H, kvHeads: Hkv, headDim: D, causalOffset: offset)
            }
            let twin = Self.attention(q, k, v, queries: T, keys: S, heads: H, kvHeads: Hkv, headDim: D, causalOffset: offset, twin: true)
            #expect(maxAbsDiff(fused, twin) <= 2e-5, "level \(level) T=\(T) S=\(S) D=\(D): \(maxAbsDiff(fused, twin))")
            // Causal: the same rows run in two calls (the cache holding the first call's rows) give
            // the same bits.
            guard let offset, T >= 40 else { continue }
            let first = 37, second = T - 37   // both ≥ 16 rows: the fused path
            let a = atLevel(level) {
                Self.attention(Array(q.prefix(first * H * D)), k, v, queries: first, keys: offset + first, heads: H, kvHeads: Hkv,
                               headDim: D, causalOffset: offset)
            }
            let b = atLevel(level) {
                Self.attention(Array(q.suffix(second * H * D)), k, v, queries: second, keys: S, heads: H, kvHeads: Hkv,
                               headDim: D, causalOffset: offset + first)
            }
            #expect(a + b == fused, "level \(level) T=\(T) S=\(S): rows split 37 + \(second) differ")
        }
    }
}
