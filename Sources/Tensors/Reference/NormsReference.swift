// Naive twins of Kernels/Norms.swift: same signatures, plain loops, Double accumulation where a
// sum is involved. Tests compare the fast kernels against these.

extension Reference {
    /// Naive twin of `Kernels.layerNorm` (Double statistics).
    public static func layerNorm(_ x: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>,
                                 bias: UnsafeBufferPointer<Float>?, eps: Float,
                                 out: UnsafeMutableBufferPointer<Float>, rows R: Int, cols N: Int) {
        for r in 0 ..< R {
            var mean = 0.0
            for c in 0 ..< N { mean += Double(x[r * N + c]) }
            mean /= Double(N)
            var v = 0.0
            for c in 0 ..< N { let d = Double(x[r * N + c]) - mean; v += d * d }
            v /= Double(N)
            let rstd = 1 / libmSqrt(v + Double(eps))
            for c in 0 ..< N {
                let y = (Double(x[r * N + c]) - mean) * rstd * Double(weight[c]) + Double(bias?[c] ?? 0)
                out[r * N + c] = Float(y)
            }
        }
    }

    /// Naive twin of `Kernels.rmsNorm` (Double statistics).
    public static func rmsNorm(_ x: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>, eps: Float,
                               out: UnsafeMutableBufferPointer<Float>, rows R: Int, cols N: Int) {
        for r in 0 ..< R {
            var ms = 0.0
            for c in 0 ..< N { let v = Double(x[r * N + c]); ms += v * v }
            ms /= Double(N)
            let rstd = 1 / libmSqrt(ms + Double(eps))
            for c in 0 ..< N { out[r * N + c] = Float(Double(weight[c]) * Double(x[r * N + c]) * rstd) }
        }
    }
}
