// Naive twin of Kernels/AttentionBF16.swift.
import CKernels

extension Reference {
    /// Naive twin of `Kernels.attentionBF16`: Q, K, V and the probabilities rounded to bf16 (ties
    /// to even), products summed in Double, softmax in Double.
    public static func attentionBF16(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                     out: UnsafeMutablePointer<Float>, layout: AttentionLayout,
                                     queries T: Int, keys S: Int, heads H: Int, headDim D: Int, scale: Float) {
        func bf(_ x: Float) -> Double {
            var f = x, b: UInt16 = 0
            gk_f32_to_bf16(&f, &b, 1)
            return Double(Float(bitPattern: UInt32(b) << 16))
        }
        for h in 0 ..< H {
            for t in 0 ..< T {
                var s = [Double](repeating: 0, count: S)
                for j in 0 ..< S {
                    var acc = 0.0
                    for d in 0 ..< D { acc += bf(q[t * layout.qRowStride + h * D + d]) * bf(k[j * layout.kRowStride + h * D + d]) }
                    s[j] = Double(Float(acc)) * Double(scale)
                }
                let m = s.max()!
                let e = s.map { libmExp($0 - m) }
                let sum = e.reduce(0, +)
                let p = e.map { bf(Float($0 / sum)) }
                for d in 0 ..< D {
                    var acc = 0.0
                    for j in 0 ..< S { acc += p[j] * bf(v[j * layout.vRowStride + h * D + d]) }
                    out[t * layout.outRowStride + h * D + d] = Float(acc)
                }
            }
        }
    }
}
