// Naive twin of Kernels/AttentionBF16.swift.
import CKernels

extension Reference {
    /// Naive twin of `Kernels.attentionBF16`, with the kernel's roundings: bf16(q), bf16(k),
    /// bf16(v) (ties to even); per tile of `GK_ATTENTION_BF16_TILE` keys, the f32 scores
    /// `scale · Σ bf16(q)·bf16(k)`, the running max m, p = bf16(exp(s − m)) and the rescale
    /// exp(m_old − m_new) (CKernels' `gk_exp`, as the kernel); l sums the rounded p. Products and
    /// sums in Double, so only the kernel's f32 summation order differs.
    public static func attentionBF16(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                     out: UnsafeMutablePointer<Float>, layout: AttentionLayout,
                                     queries T: Int, keys S: Int, heads H: Int, kvHeads Hkv: Int, headDim D: Int,
                                     scale: Float, causalOffset: Int?) {
        func bf(_ x: Float) -> Float {
            var f = x, b: UInt16 = 0
            gk_f32_to_bf16(&f, &b, 1)
            return Float(bitPattern: UInt32(b) << 16)
        }
        func exp(_ x: Float) -> Float {
            var x = x, y: Float = 0
            gk_exp(&x, &y, 1)
            return y
        }
        let tile = Int(GK_ATTENTION_BF16_TILE), group = H / Hkv
        for t in 0 ..< T {
            for h in 0 ..< H {
                let g = h / group
                let visible = causalOffset.map { $0 + t + 1 } ?? S
                let qv = (0 ..< D).map { bf(q[t * layout.qRowStride + h * D + $0]) }
                var m = -Float.infinity, l = 0.0
                var o = [Double](repeating: 0, count: D)
                for c0 in stride(from: 0, to: visible, by: tile) {
                    let keys = c0 ..< min(visible, c0 + tile)
                    let s: [Float] = keys.map { j in
                        var acc = 0.0
                        for d in 0 ..< D { acc += Double(qv[d]) * Double(bf(k[j * layout.kRowStride + g * D + d])) }
                        return Float(acc) * scale
                    }
                    let mNew = max(m, s.max()!)
                    let p = s.map { bf(exp($0 - mNew)) }
                    let alpha = m == -.infinity || m == mNew ? 1 : Double(exp(m - mNew))
                    for d in 0 ..< D {
                        var acc = 0.0
                        for (i, j) in keys.enumerated() { acc += Double(p[i]) * Double(bf(v[j * layout.vRowStride + g * D + d])) }
                        o[d] = o[d] * alpha + acc
                    }
                    l = l * alpha + p.reduce(0) { $0 + Double($1) }
                    m = mNew
                }
                for d in 0 ..< D { out[t * layout.outRowStride + h * D + d] = Float(o[d] / l) }
            }
        }
    }

    /// Non-causal twin with one kv head per query head.
    public static func attentionBF16(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                     out: UnsafeMutablePointer<Float>, layout: AttentionLayout,
                                     queries T: Int, keys S: Int, heads H: Int, headDim D: Int, scale: Float) {
        attentionBF16(q: q, k: k, v: v, out: out, layout: layout, queries: T, keys: S, heads: H, kvHeads: H, headDim: D,
                      scale: scale, causalOffset: nil)
    }
}
