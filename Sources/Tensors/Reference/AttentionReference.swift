// Naive twins of Kernels/Attention.swift: same signatures, plain loops, Double accumulation where a
// sum is involved. Tests compare the fast kernels against these.

extension Reference {
    /// Naive twin of `Kernels.attention` (Double scores, softmax and sums).
    public static func attention(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                 out: UnsafeMutablePointer<Float>, layout: AttentionLayout,
                                 queries T: Int, keys S: Int, heads H: Int, kvHeads Hkv: Int, headDim D: Int,
                                 scale: Float, causalOffset: Int?) {
        let group = H / Hkv
        var p = [Double](repeating: 0, count: S)
        for t in 0 ..< T {
            for h in 0 ..< H {
                let g = h / group
                let visible = causalOffset.map { $0 + t + 1 } ?? S
                let qv = q + t * layout.qRowStride + h * D
                var m = -Double.infinity
                for s in 0 ..< visible {
                    let kv = k + s * layout.kRowStride + g * D
                    var dot = 0.0
                    for d in 0 ..< D { dot += Double(qv[d]) * Double(kv[d]) }
                    p[s] = dot * Double(scale)
                    m = max(m, p[s])
                }
                var sum = 0.0
                for s in 0 ..< visible { p[s] = libmExp(p[s] - m); sum += p[s] }
                let o = out + t * layout.outRowStride + h * D
                for d in 0 ..< D {
                    var acc = 0.0
                    for s in 0 ..< visible { acc += p[s] * Double(v[s * layout.vRowStride + g * D + d]) }
                    o[d] = Float(acc / sum)
                }
            }
        }
    }
}
