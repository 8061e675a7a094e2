// LayerNorm (PyTorch nn.LayerNorm) and RMSNorm (Hugging Face LlamaRMSNorm), row-wise.

/// Sum of `n` floats with 2×16 SIMD accumulators (Swift keeps scalar FP sums in order and
/// therefore scalar; STYLE.md §8 #1).
@inline(__always)
func simdSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
    let raw = UnsafeRawPointer(p)
    var i = 0
    while i + 32 <= n {
        a0 += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        a1 += raw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
        i += 32
    }
    var s = (a0 + a1).sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

/// Σ (p[i] − c)² with SIMD accumulators.
@inline(__always)
func simdSumSquaredDeviations(_ p: UnsafePointer<Float>, _ n: Int, center c: Float) -> Float {
    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
    let vc = SIMD16<Float>(repeating: c)
    let raw = UnsafeRawPointer(p)
    var i = 0
    while i + 32 <= n {
        let d0 = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - vc
        let d1 = raw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self) - vc
        a0 += d0 * d0
        a1 += d1 * d1
        i += 32
    }
    var s = (a0 + a1).sum()
    while i < n { let d = p[i] - c; s += d * d; i += 1 }
    return s
}

extension Kernels {
    /// LayerNorm over the last dimension: `x, out: [R, N]`, `weight, bias: [N]`.
    /// `out = (x − mean) · rsqrt(var + eps) · weight + bias` with the biased variance (PyTorch),
    /// computed in two passes (mean, then centred squares). `x` and `out` may alias.
    public static func layerNorm(_ x: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>,
                                 bias: UnsafeBufferPointer<Float>?, eps: Float,
                                 out: UnsafeMutableBufferPointer<Float>, rows R: Int, cols N: Int) {
        precondition(x.count >= R * N && out.count >= R * N, "layerNorm: buffers hold less than \(R)×\(N)")
        precondition(weight.count >= N && (bias == nil || bias!.count >= N), "layerNorm: weight/bias shorter than \(N)")
        guard R > 0, N > 0 else { return }
        let xp = x.baseAddress!, op = out.baseAddress!, wp = weight.baseAddress!, bp = bias?.baseAddress
        parallelFor(R, grain: rowGrain(rowLength: N)) { rows in
            for r in rows {
                let xr = xp + r * N, orow = op + r * N
                let mean = simdSum(xr, N) / Float(N)
                let variance = simdSumSquaredDeviations(xr, N, center: mean) / Float(N)
                let rstd = 1 / (variance + eps).squareRoot()
                let shift = -mean * rstd
                if let bp {
                    for c in 0 ..< N { orow[c] = (xr[c] * rstd + shift) * wp[c] + bp[c] }
                } else {
                    for c in 0 ..< N { orow[c] = (xr[c] * rstd + shift) * wp[c] }
                }
            }
        }
    }

    /// RMSNorm as Hugging Face `LlamaRMSNorm` (f32): `out = weight · (x · rsqrt(mean(x²) + eps))`.
    /// `x, out: [R, N]`, `weight: [N]`; `x` and `out` may alias.
    public static func rmsNorm(_ x: UnsafeBufferPointer<Float>, weight: UnsafeBufferPointer<Float>, eps: Float,
                               out: UnsafeMutableBufferPointer<Float>, rows R: Int, cols N: Int) {
        precondition(x.count >= R * N && out.count >= R * N, "rmsNorm: buffers hold less than \(R)×\(N)")
        precondition(weight.count >= N, "rmsNorm: weight shorter than \(N)")
        guard R > 0, N > 0 else { return }
        let xp = x.baseAddress!, op = out.baseAddress!, wp = weight.baseAddress!
        parallelFor(R, grain: rowGrain(rowLength: N)) { rows in
            for r in rows {
                let xr = xp + r * N, orow = op + r * N
                let meanSquare = simdSumSquaredDeviations(xr, N, center: 0) / Float(N)
                let rstd = 1 / (meanSquare + eps).squareRoot()
                for c in 0 ..< N { orow[c] = wp[c] * (xr[c] * rstd) }
            }
        }
    }
}
