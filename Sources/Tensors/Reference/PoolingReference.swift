// Naive twins of Kernels/Pooling.swift: same signatures, plain loops, Double accumulation where a
// sum is involved. Tests compare the fast kernels against these.

extension Reference {
    /// Naive twin of `Kernels.adaptiveAvgPool2d` (Double sums).
    public static func adaptiveAvgPool2d(_ x: UnsafeBufferPointer<Float>, height Hi: Int, width Wi: Int, channels C: Int,
                                         outHeight Ho: Int, outWidth Wo: Int, out: UnsafeMutableBufferPointer<Float>) {
        for i in 0 ..< Ho {
            for j in 0 ..< Wo {
                let h0 = Int((Double(i * Hi) / Double(Ho)).rounded(.down))
                let h1 = Int((Double((i + 1) * Hi) / Double(Ho)).rounded(.up))
                let w0 = Int((Double(j * Wi) / Double(Wo)).rounded(.down))
                let w1 = Int((Double((j + 1) * Wi) / Double(Wo)).rounded(.up))
                for c in 0 ..< C {
                    var s = 0.0
                    for h in h0 ..< h1 { for w in w0 ..< w1 { s += Double(x[(h * Wi + w) * C + c]) } }
                    out[(i * Wo + j) * C + c] = Float(s / Double((h1 - h0) * (w1 - w0)))
                }
            }
        }
    }
}
