// Non-causal attention with bf16 products, for long key sequences in models that run in bf16
// (SAM 2's global Hiera blocks and memory attention: 4,096 queries × 4,096 … 28,700 keys).
// Per head: K [S, D] and Vᵀ [D, S] are rounded to bf16 and packed ONCE into oneDNN's matmul layout
// (`BF16Matrix`, the weights' path: a plain operand would be re-packed by oneDNN on every product);
// then per block of query rows: scores = bf16(Q)·bf16(K)ᵀ with f32 accumulation, row softmax of
// scale·scores in f32, out = bf16(P)·bf16(V) with f32 accumulation, copied into the strided output
// rows. Blocks bound the f32 score matrix to ~32 MB. The error is that of bf16 inputs (relative
// 2⁻⁹ per operand) on the two products; the softmax itself stays f32.
import CKernels

extension Kernels {
    /// `attention` (non-causal, `kvHeads == heads`) with bf16 products; same layout rules.
    public static func attentionBF16(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                     out: UnsafeMutablePointer<Float>, layout: AttentionLayout,
                                     queries T: Int, keys S: Int, heads H: Int, headDim D: Int, scale: Float) {
        precondition(T >= 0 && S > 0 && H > 0 && D > 0, "attentionBF16: bad sizes")
        precondition(layout.qRowStride >= H * D && layout.outRowStride >= H * D && layout.kRowStride >= H * D
                     && layout.vRowStride >= H * D, "attentionBF16: rows too short")
        guard T > 0 else { return }
        let block = max(16, min(T, (1 << 23) / S))
        let kb = UnsafeMutablePointer<UInt16>.allocate(capacity: S * D), vt = UnsafeMutablePointer<UInt16>.allocate(capacity: D * S)
        let qf = UnsafeMutablePointer<Float>.allocate(capacity: block * D), of = UnsafeMutablePointer<Float>.allocate(capacity: block * D)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: block * S)
        defer { kb.deallocate(); vt.deallocate(); qf.deallocate(); of.deallocate(); scores.deallocate() }
        for h in 0 ..< H {
            // K [S, D] and Vᵀ [D, S] in bf16, row-major, then packed.
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
