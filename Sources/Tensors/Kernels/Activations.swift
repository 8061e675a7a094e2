// Pointwise activations and row softmax. The transcendental work runs in CKernels (AVX-512 /
// AVX2+FMA / baseline, chosen at run time); these wrappers split long buffers across threads.
import CKernels

extension Kernels {
    /// Elements per parallel chunk for pointwise kernels.
    static let pointwiseGrain = 1 << 15

    /// `y[i] = GELU(x[i])` with the exact erf (PyTorch `F.gelu`, `nn.GELU()`); `x` and `y` may
    /// be the same buffer. Absolute error vs the true GELU ≤ 1.6e-7·|x| + 1 ulp.
    public static func gelu(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        precondition(y.count >= x.count, "gelu: output shorter than input")
        guard let xp = x.baseAddress, let yp = y.baseAddress else { return }
        parallelFor(x.count, grain: pointwiseGrain) { r in gk_gelu(xp + r.lowerBound, yp + r.lowerBound, r.count) }
    }

    /// `y[i] = max(x[i], 0)` (PyTorch `F.relu`; NaN stays NaN); `x` and `y` may be the same buffer.
    public static func relu(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        precondition(y.count >= x.count, "relu: output shorter than input")
        guard let xp = x.baseAddress, let yp = y.baseAddress else { return }
        parallelFor(x.count, grain: pointwiseGrain) { r in
            for i in r {
                let v = xp[i]
                yp[i] = v > 0 || v.isNaN ? v : 0
            }
        }
    }

    /// `y[i] = x[i] · sigmoid(x[i])` (PyTorch `F.silu`); `x` and `y` may alias.
    public static func silu(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        precondition(y.count >= x.count, "silu: output shorter than input")
        guard let xp = x.baseAddress, let yp = y.baseAddress else { return }
        parallelFor(x.count, grain: pointwiseGrain) { r in gk_silu(xp + r.lowerBound, yp + r.lowerBound, r.count) }
    }

    /// SwiGLU product in place: `gate[i] = silu(gate[i]) · up[i]` (Llama MLP).
    public static func siluMul(gate: UnsafeMutableBufferPointer<Float>, up: UnsafeBufferPointer<Float>) {
        precondition(up.count >= gate.count, "siluMul: up shorter than gate")
        guard let g = gate.baseAddress, let u = up.baseAddress else { return }
        parallelFor(gate.count, grain: pointwiseGrain) { r in gk_silu_mul(g + r.lowerBound, u + r.lowerBound, r.count) }
    }

    /// `y[i] = exp(x[i])`; `x` and `y` may alias.
    public static func exp(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        precondition(y.count >= x.count, "exp: output shorter than input")
        guard let xp = x.baseAddress, let yp = y.baseAddress else { return }
        parallelFor(x.count, grain: pointwiseGrain) { r in gk_exp(xp + r.lowerBound, yp + r.lowerBound, r.count) }
    }

    /// Row softmax in place: `x[R, N]`, each row becomes `softmax(scale · row)` (`scale > 0`).
    /// Entries equal to −∞ get probability 0 (masking); every row needs one finite entry.
    public static func softmaxRows(_ x: UnsafeMutableBufferPointer<Float>, rows R: Int, cols N: Int, scale: Float = 1) {
        precondition(x.count >= R * N, "softmaxRows: buffer holds \(x.count) < \(R)×\(N)")
        precondition(scale > 0, "softmaxRows: scale must be positive")
        guard R > 0, N > 0, let p = x.baseAddress else { return }
        parallelFor(R, grain: rowGrain(rowLength: N)) { r in
            for i in r { gk_softmax(p + i * N, N, scale) }
        }
    }
}
