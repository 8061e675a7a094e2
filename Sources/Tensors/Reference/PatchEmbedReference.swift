// Naive twins of Kernels/PatchEmbed.swift: same signatures, plain loops, Double accumulation where a
// sum is involved. Tests compare the fast kernels against these.

extension Reference {
    /// Naive twin of `Kernels.im2col`.
    public static func im2col(image: UnsafeBufferPointer<Float>, channels C: Int, height Hi: Int, width Wi: Int,
                              patch P: Int, out: UnsafeMutableBufferPointer<Float>) {
        let gw = Wi / P, K = C * P * P
        for r in 0 ..< Hi / P {
            for col in 0 ..< gw {
                for c in 0 ..< C {
                    for kh in 0 ..< P {
                        for kw in 0 ..< P {
                            out[(r * gw + col) * K + (c * P + kh) * P + kw] = image[(c * Hi + r * P + kh) * Wi + col * P + kw]
                        }
                    }
                }
            }
        }
    }

    /// Naive twin of `Kernels.patchEmbed`: the convolution written out directly.
    public static func patchEmbed(image: UnsafeBufferPointer<Float>, channels C: Int, height Hi: Int, width Wi: Int,
                                  patch P: Int, weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
                                  embedDim D: Int, out: UnsafeMutableBufferPointer<Float>) {
        let gh = Hi / P, gw = Wi / P
        for r in 0 ..< gh {
            for col in 0 ..< gw {
                for d in 0 ..< D {
                    var s = bias.map { Double($0[d]) } ?? 0
                    for c in 0 ..< C {
                        for kh in 0 ..< P {
                            for kw in 0 ..< P {
                                s += Double(weight[((d * C + c) * P + kh) * P + kw]) *
                                    Double(image[(c * Hi + r * P + kh) * Wi + col * P + kw])
                            }
                        }
                    }
                    out[(r * gw + col) * D + d] = Float(s)
                }
            }
        }
    }
}
