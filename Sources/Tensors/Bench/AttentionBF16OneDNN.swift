// The bf16 attention SAM 2 ran before the fused kernel (issue 12/13), kept ONLY as the "old" row
// of `gar bench ops --attention-only` (old vs new in the same run); no model calls it.
// Per head: K [S, D] and Vᵀ [D, S] rounded to bf16 and packed once as `BF16Matrix` operands; per
// block of query rows: scores = bf16(Q)·bf16(K)ᵀ on oneDNN's matmul (f32 accumulation), row
// softmax of scale·scores in f32, out = bf16(P)·bf16(V) on oneDNN; score blocks ≤ 32 MB.
import CKernels

extension BlockBenchmarks {
    /// Non-causal attention, one kv head per query head, the previous oneDNN implementation.
    static func attentionBF16OneDNN(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                    out: UnsafeMutablePointer<Float>, layout: AttentionLayout,
                                    queries T: Int, keys S: Int, heads H: Int, headDim D: Int, scale: Float) {
        guard T > 0 else { return }
        let block = max(16, min(T, (1 << 23) / S))
        let kb = UnsafeMutablePointer<UInt16>.allocate(capacity: S * D), vt = UnsafeMutablePointer<UInt16>.allocate(capacity: D * S)
        let qf = UnsafeMutablePointer<Float>.allocate(capacity: block * D), of = UnsafeMutablePointer<Float>.allocate(capacity: block * D)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: block * S)
        defer { kb.deallocate(); vt.deallocate(); qf.deallocate(); of.deallocate(); scores.deallocate() }
        for h in 0 ..< H {
            parallelFor(S, grain: 256) { r in
                var row = [UInt16](repeating: 0, count: D)
                for s in r {
                    gk_f32_to_bf16(k + s * layout.kRowStride + h * D, kb + s * D, D)
                    row.withUnsafeMutableBufferPointer { rb in
                        gk_f32_to_bf16(v + s * layout.vRowStride + h * D, rb.baseAddress!, D)
                        for d in 0 ..< D { vt[d * S + s] = rb[d] }
                    }
                }
            }
            let keys = BF16Matrix(bf16: UnsafeBufferPointer(start: kb, count: S * D), rows: S, cols: D)
            let values = BF16Matrix(bf16: UnsafeBufferPointer(start: vt, count: D * S), rows: D, cols: S)
            var t0 = 0
            while t0 < T {
                let rows = min(block, T - t0)
                for i in 0 ..< rows { (qf + i * D).update(from: q + (t0 + i) * layout.qRowStride + h * D, count: D) }
                keys.multiply(qf, rows: rows, out: scores, split: false)  // [rows, S]
                parallelFor(rows, grain: 8) { r in
                    for i in r { gk_softmax(scores + i * S, S, scale) }
                }
                values.multiply(scores, rows: rows, out: of, split: false)  // [rows, D]
                for i in 0 ..< rows { (out + (t0 + i) * layout.outRowStride + h * D).update(from: of + i * D, count: D) }
                t0 += rows
            }
        }
    }
}
