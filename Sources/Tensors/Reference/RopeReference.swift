// Naive twins of Kernels/Rope.swift: same signatures, plain loops, Double accumulation where a
// sum is involved. Tests compare the fast kernels against these.

extension Reference {
    /// Naive twin of `Kernels.ropeInterleaved` (Double arithmetic).
    public static func ropeInterleaved(_ x: UnsafeMutablePointer<Float>, rowStride: Int, rows T: Int, prefix: Int,
                                       heads H: Int, table: RopeTable) {
        let D = table.headDim
        for t in prefix ..< T {
            for h in 0 ..< H {
                let v = x + t * rowStride + h * D
                for j in stride(from: 0, to: D, by: 2) {
                    let a = Double(v[j]), b = Double(v[j + 1])
                    let p = (t - prefix) * D
                    v[j] = Float(a * Double(table.cos[p + j]) - b * Double(table.sin[p + j]))
                    v[j + 1] = Float(b * Double(table.cos[p + j + 1]) + a * Double(table.sin[p + j + 1]))
                }
            }
        }
    }

    /// Naive twin of `Kernels.ropeHalfSplit` (Double arithmetic).
    public static func ropeHalfSplit(_ x: UnsafeMutablePointer<Float>, rowStride: Int, rows T: Int,
                                     heads H: Int, table: RopeTable) {
        let D = table.headDim, half = D / 2
        for t in 0 ..< T {
            for h in 0 ..< H {
                let v = x + t * rowStride + h * D
                for i in 0 ..< half {
                    let a = Double(v[i]), b = Double(v[i + half])
                    v[i] = Float(a * Double(table.cos[t * D + i]) - b * Double(table.sin[t * D + i]))
                    v[i + half] = Float(b * Double(table.cos[t * D + i + half]) + a * Double(table.sin[t * D + i + half]))
                }
            }
        }
    }
}
