// Naive twins of Kernels/Conv.swift and Kernels/Interpolate.swift: same signatures, plain loops,
// Double accumulation. Tests compare the fast kernels against these.

extension Reference {
    /// Naive twin of `Kernels.conv2d`: direct convolution, Double sums.
    public static func conv2d(image: UnsafeBufferPointer<Float>, channels C: Int, height Hi: Int, width Wi: Int,
                              kernel K: Int, stride s: Int, padding p: Int,
                              weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
                              outChannels D: Int, out: UnsafeMutableBufferPointer<Float>) {
        let Ho = (Hi + 2 * p - K) / s + 1, Wo = (Wi + 2 * p - K) / s + 1
        for r in 0 ..< Ho {
            for col in 0 ..< Wo {
                for d in 0 ..< D {
                    var sum = Double(bias?[d] ?? 0)
                    for c in 0 ..< C {
                        for kh in 0 ..< K {
                            for kw in 0 ..< K {
                                let y = r * s - p + kh, x = col * s - p + kw
                                guard y >= 0 && y < Hi && x >= 0 && x < Wi else { continue }
                                sum += Double(weight[((d * C + c) * K + kh) * K + kw]) * Double(image[(c * Hi + y) * Wi + x])
                            }
                        }
                    }
                    out[(r * Wo + col) * D + d] = Float(sum)
                }
            }
        }
    }

    /// Naive twin of `Kernels.maxPool2d`.
    public static func maxPool2d(_ x: UnsafeBufferPointer<Float>, height Hi: Int, width Wi: Int, channels C: Int,
                                 kernel K: Int, out: UnsafeMutableBufferPointer<Float>) {
        for i in 0 ..< Hi / K {
            for j in 0 ..< Wi / K {
                for c in 0 ..< C {
                    var m = -Float.infinity
                    for dy in 0 ..< K { for dx in 0 ..< K { m = max(m, x[((i * K + dy) * Wi + j * K + dx) * C + c]) } }
                    out[(i * (Wi / K) + j) * C + c] = m
                }
            }
        }
    }

    /// Naive twin of `Kernels.interpolateBicubic` (coefficients from the formulas in Double).
    public static func interpolateBicubic(_ x: UnsafeBufferPointer<Float>, channels C: Int, height Hi: Int, width Wi: Int,
                                          out: UnsafeMutableBufferPointer<Float>, height Ho: Int, width Wo: Int) {
        func taps(_ i: Int, _ n: Int, _ m: Int) -> (Int, [Double]) {
            let a = -0.75
            let real = Double(Float(n) / Float(m)) * (Double(i) + 0.5) - 0.5
            let i0 = min(Int(real.rounded(.down)), n - 1)
            let t = min(max(real - Double(i0), 0), 1)
            func k(_ x: Double) -> Double {
                let x = abs(x)
                if x <= 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
                if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
                return 0
            }
            return (i0 - 1, [k(t + 1), k(t), k(1 - t), k(2 - t)])
        }
        separable(x, channels: C, height: Hi, width: Wi, out: out, height: Ho, width: Wo, taps: taps)
    }

    /// Naive twin of `Kernels.interpolateBilinear`.
    public static func interpolateBilinear(_ x: UnsafeBufferPointer<Float>, channels C: Int, height Hi: Int, width Wi: Int,
                                           out: UnsafeMutableBufferPointer<Float>, height Ho: Int, width Wo: Int) {
        func taps(_ i: Int, _ n: Int, _ m: Int) -> (Int, [Double]) {
            let real = max(Double(Float(n) / Float(m)) * (Double(i) + 0.5) - 0.5, 0)
            let i0 = min(Int(real), n - 1)
            let l = min(real - Double(i0), 1)
            return (i0, [1 - l, l])
        }
        separable(x, channels: C, height: Hi, width: Wi, out: out, height: Ho, width: Wo, taps: taps)
    }

    static func separable(_ x: UnsafeBufferPointer<Float>, channels C: Int, height Hi: Int, width Wi: Int,
                          out: UnsafeMutableBufferPointer<Float>, height Ho: Int, width Wo: Int,
                          taps: (Int, Int, Int) -> (Int, [Double])) {
        for c in 0 ..< C {
            for i in 0 ..< Ho {
                let (y0, wy) = taps(i, Hi, Ho)
                for j in 0 ..< Wo {
                    let (x0, wx) = taps(j, Wi, Wo)
                    var sum = 0.0
                    for (a, w1) in wy.enumerated() {
                        for (b, w2) in wx.enumerated() {
                            let y = min(max(y0 + a, 0), Hi - 1), xx = min(max(x0 + b, 0), Wi - 1)
                            sum += w1 * w2 * Double(x[(c * Hi + y) * Wi + xx])
                        }
                    }
                    out[(c * Ho + i) * Wo + j] = Float(sum)
                }
            }
        }
    }

    /// Naive twin of `Kernels.upsampleNearest2x`.
    public static func upsampleNearest2x(_ x: UnsafeBufferPointer<Float>, height Hi: Int, width Wi: Int, channels C: Int,
                                         out: UnsafeMutableBufferPointer<Float>) {
        for y in 0 ..< 2 * Hi { for xx in 0 ..< 2 * Wi { for c in 0 ..< C {
            out[(y * 2 * Wi + xx) * C + c] = x[(Int(Float(y) * 0.5) * Wi + Int(Float(xx) * 0.5)) * C + c]
        } } }
    }
}
