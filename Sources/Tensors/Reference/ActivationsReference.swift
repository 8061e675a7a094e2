// Naive twins of Kernels/Activations.swift: same signatures, plain loops, Double accumulation where a
// sum is involved. Tests compare the fast kernels against these.

extension Reference {
    /// Naive twin of `Kernels.gelu` (libm erf in Double).
    public static func gelu(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        for i in 0 ..< x.count {
            let v = Double(x[i])
            y[i] = Float(v * 0.5 * (1 + libmErf(v * 0.7071067811865476)))
        }
    }

    /// Naive twin of `Kernels.silu`.
    public static func silu(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        for i in 0 ..< x.count {
            let v = Double(x[i])
            y[i] = Float(v / (1 + libmExp(-v)))
        }
    }

    /// Naive twin of `Kernels.siluMul`.
    public static func siluMul(gate: UnsafeMutableBufferPointer<Float>, up: UnsafeBufferPointer<Float>) {
        for i in 0 ..< gate.count {
            let v = Double(gate[i])
            gate[i] = Float(v / (1 + libmExp(-v)) * Double(up[i]))
        }
    }

    /// Naive twin of `Kernels.exp`.
    public static func exp(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>) {
        for i in 0 ..< x.count { y[i] = Float(libmExp(Double(x[i]))) }
    }

    /// Naive twin of `Kernels.softmaxRows`.
    public static func softmaxRows(_ x: UnsafeMutableBufferPointer<Float>, rows R: Int, cols N: Int, scale: Float = 1) {
        for r in 0 ..< R {
            let row = x.baseAddress! + r * N
            var m = -Double.infinity
            for j in 0 ..< N { m = max(m, Double(row[j])) }
            var s = 0.0
            for j in 0 ..< N { s += libmExp((Double(row[j]) - m) * Double(scale)) }
            for j in 0 ..< N { row[j] = Float(libmExp((Double(row[j]) - m) * Double(scale)) / s) }
        }
    }
}
