// Naive twins of Kernels/Gemm.swift: same signatures, plain loops, Double accumulation where a
// sum is involved. Tests compare the fast kernels against these.

extension Reference {
    /// Naive twin of `Kernels.gemm` (Double accumulation).
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0 ..< m {
            for j in 0 ..< n {
                var s = 0.0
                for p in 0 ..< k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(av) * Double(bv)
                }
                let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                c[i * ldc + j] = Float(Double(alpha) * s + old)
            }
        }
    }

    /// Naive twin of `Kernels.linear`.
    public static func linear(
        x: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
        out: UnsafeMutableBufferPointer<Float>, rows T: Int, inFeatures C: Int, outFeatures OC: Int
    ) {
        for t in 0 ..< T {
            for o in 0 ..< OC {
                var s = bias.map { Double($0[o]) } ?? 0
                for i in 0 ..< C { s += Double(x[t * C + i]) * Double(weight[o * C + i]) }
                out[t * OC + o] = Float(s)
            }
        }
    }
}
