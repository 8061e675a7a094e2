// Patch embedding as a GEMM: a Conv2d with kernel = stride = P and no padding over a planar
// image equals im2col (one row of C·P·P values per patch) times the conv weight viewed as
// [D, C·P·P] (PyTorch's [D, C, P, P] is already that matrix, row-major, no copy).

extension Kernels {
    /// im2col for non-overlapping patches: `image: [C, Hi, Wi]` planar → `out: [(Hi/P)·(Wi/P), C·P·P]`.
    /// Patch `p = row·(Wi/P) + col`; within a patch the order is `(c, kh, kw)`, matching
    /// `conv.weight.reshape(D, -1)`. `Hi` and `Wi` must be multiples of `P`.
    public static func im2col(image: UnsafeBufferPointer<Float>, channels C: Int, height Hi: Int, width Wi: Int,
                              patch P: Int, out: UnsafeMutableBufferPointer<Float>) {
        precondition(Hi % P == 0 && Wi % P == 0, "im2col: \(Hi)×\(Wi) is not a multiple of patch \(P)")
        let gh = Hi / P, gw = Wi / P, K = C * P * P
        precondition(image.count >= C * Hi * Wi && out.count >= gh * gw * K, "im2col: buffer sizes")
        guard gh * gw > 0 else { return }
        let ip = image.baseAddress!, op = out.baseAddress!
        parallelFor(gh, grain: 1) { rows in
            for r in rows {
                for c in 0 ..< C {
                    for kh in 0 ..< P {
                        let src = ip + (c * Hi + r * P + kh) * Wi
                        for col in 0 ..< gw {
                            let dst = op + (r * gw + col) * K + (c * P + kh) * P
                            dst.update(from: src + col * P, count: P)
                        }
                    }
                }
            }
        }
    }

    /// Conv2d(C→D, kernel P, stride P, no padding) as im2col + GEMM:
    /// `image: [C, Hi, Wi]`, `weight: [D, C, P, P]`, `bias: [D]?` → `out: [(Hi/P)·(Wi/P), D]`
    /// (tokens row-major over the patch grid, channels last).
    public static func patchEmbed(image: UnsafeBufferPointer<Float>, channels C: Int, height Hi: Int, width Wi: Int,
                                  patch P: Int, weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
                                  embedDim D: Int, out: UnsafeMutableBufferPointer<Float>) {
        let T = (Hi / P) * (Wi / P), K = C * P * P
        var cols = [Float](repeating: 0, count: T * K)
        cols.withUnsafeMutableBufferPointer { colsB in
            im2col(image: image, channels: C, height: Hi, width: Wi, patch: P, out: colsB)
            linear(x: UnsafeBufferPointer(colsB), weight: weight, bias: bias, out: out, rows: T, inFeatures: K, outFeatures: D)
        }
    }
}
