// Naive twins of Kernels/Elementwise.swift: same signatures, plain loops, Double accumulation where a
// sum is involved. Tests compare the fast kernels against these.

extension Reference {
    public static func addInPlace(_ x: UnsafeMutableBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) {
        for i in 0 ..< x.count { x[i] = x[i] + y[i] }
    }

    public static func add(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>, _ out: UnsafeMutableBufferPointer<Float>) {
        for i in 0 ..< a.count { out[i] = a[i] + b[i] }
    }

    public static func mul(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>, _ out: UnsafeMutableBufferPointer<Float>) {
        for i in 0 ..< a.count { out[i] = a[i] * b[i] }
    }

    public static func scaleInPlace(_ x: UnsafeMutableBufferPointer<Float>, by s: Float) {
        for i in 0 ..< x.count { x[i] = x[i] * s }
    }

    public static func addRowVector(_ x: UnsafeMutableBufferPointer<Float>, _ v: UnsafeBufferPointer<Float>, rows R: Int, cols N: Int) {
        for r in 0 ..< R { for c in 0 ..< N { x[r * N + c] = x[r * N + c] + v[c] } }
    }

    public static func addScaledRows(_ x: UnsafeMutableBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>,
                                     gamma: UnsafeBufferPointer<Float>, rows R: Int, cols N: Int) {
        for r in 0 ..< R { for c in 0 ..< N { x[r * N + c] = x[r * N + c] + gamma[c] * y[r * N + c] } }
    }
}
