// Elementwise arithmetic on Float buffers. These loops carry no reduction, so the compiler
// vectorises them as written; long buffers are split across threads.

extension Kernels {
    /// `x[i] += y[i]` (residual add).
    public static func addInPlace(_ x: UnsafeMutableBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) {
        precondition(y.count >= x.count, "addInPlace: y shorter than x")
        guard let xp = x.baseAddress, let yp = y.baseAddress else { return }
        parallelFor(x.count, grain: pointwiseGrain) { r in
            for i in r { xp[i] += yp[i] }
        }
    }

    /// `out[i] = a[i] + b[i]`.
    public static func add(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>, _ out: UnsafeMutableBufferPointer<Float>) {
        precondition(b.count >= a.count && out.count >= a.count, "add: buffer sizes differ")
        guard let ap = a.baseAddress, let bp = b.baseAddress, let op = out.baseAddress else { return }
        parallelFor(a.count, grain: pointwiseGrain) { r in
            for i in r { op[i] = ap[i] + bp[i] }
        }
    }

    /// `out[i] = a[i] · b[i]`.
    public static func mul(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>, _ out: UnsafeMutableBufferPointer<Float>) {
        precondition(b.count >= a.count && out.count >= a.count, "mul: buffer sizes differ")
        guard let ap = a.baseAddress, let bp = b.baseAddress, let op = out.baseAddress else { return }
        parallelFor(a.count, grain: pointwiseGrain) { r in
            for i in r { op[i] = ap[i] * bp[i] }
        }
    }

    /// `x[i] *= s`.
    public static func scaleInPlace(_ x: UnsafeMutableBufferPointer<Float>, by s: Float) {
        guard let xp = x.baseAddress else { return }
        parallelFor(x.count, grain: pointwiseGrain) { r in
            for i in r { xp[i] *= s }
        }
    }

    /// Row-vector broadcast add: `x[r, c] += v[c]` for `x: [R, N]`, `v: [N]` (bias, position
    /// embedding).
    public static func addRowVector(_ x: UnsafeMutableBufferPointer<Float>, _ v: UnsafeBufferPointer<Float>, rows R: Int, cols N: Int) {
        precondition(x.count >= R * N && v.count >= N, "addRowVector: buffer sizes")
        guard R > 0, N > 0, let xp = x.baseAddress, let vp = v.baseAddress else { return }
        parallelFor(R, grain: rowGrain(rowLength: N)) { rows in
            for r in rows {
                let row = xp + r * N
                for c in 0 ..< N { row[c] += vp[c] }
            }
        }
    }

    /// LayerScale residual: `x[r, c] += gamma[c] · y[r, c]` for `x, y: [R, N]`, `gamma: [N]`.
    public static func addScaledRows(_ x: UnsafeMutableBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>,
                                     gamma: UnsafeBufferPointer<Float>, rows R: Int, cols N: Int) {
        precondition(x.count >= R * N && y.count >= R * N && gamma.count >= N, "addScaledRows: buffer sizes")
        guard R > 0, N > 0, let xp = x.baseAddress, let yp = y.baseAddress, let gp = gamma.baseAddress else { return }
        parallelFor(R, grain: rowGrain(rowLength: N)) { rows in
            for r in rows {
                let xr = xp + r * N, yr = yp + r * N
                for c in 0 ..< N { xr[c] += gp[c] * yr[c] }
            }
        }
    }
}
