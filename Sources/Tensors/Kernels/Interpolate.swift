// Float interpolation without antialiasing, PyTorch `F.interpolate(…, align_corners=False)` on
// planar `[C, Hi, Wi]` data, for SAM 2: bicubic (Hiera's background position embedding, Keys
// cubic a = −0.75, indices clamped at the border), bilinear (mask logits to the original image
// size) and nearest ×2 on channels-last grids (the FPN top-down path).
//
// Source coordinate of output index i: scale·(i + 0.5) − 0.5 with scale = Float(in)/Float(out)
// (torch `area_pixel_compute_source_index`; bilinear clamps it at 0, bicubic does not). The sums run
// in Float32 in torch's order (width taps inside, height taps outside).

/// Per output index: first input index and the taps' weights (Float32, torch's formulas).
struct InterpolationTaps {
    let index: [Int]
    let weights: [Float]  // [out, taps]
    let taps: Int

    static func bicubic(from n: Int, to m: Int) -> InterpolationTaps {
        let scale = Float(n) / Float(m), a: Float = -0.75
        func conv1(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
        func conv2(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        var index = [Int](repeating: 0, count: m), w = [Float](repeating: 0, count: 4 * m)
        for i in 0 ..< m {
            let real = scale * (Float(i) + 0.5) - 0.5
            let i0 = min(Int(real.rounded(.down)), n - 1)
            let t = min(max(real - Float(i0), 0), 1)
            index[i] = i0 - 1
            w[4 * i] = conv2(t + 1)
            w[4 * i + 1] = conv1(t)
            w[4 * i + 2] = conv1(1 - t)
            w[4 * i + 3] = conv2(2 - t)
        }
        return InterpolationTaps(index: index, weights: w, taps: 4)
    }

    static func bilinear(from n: Int, to m: Int) -> InterpolationTaps {
        let scale = Float(n) / Float(m)
        var index = [Int](repeating: 0, count: m), w = [Float](repeating: 0, count: 2 * m)
        for i in 0 ..< m {
            let real = max(scale * (Float(i) + 0.5) - 0.5, 0)
            let i0 = min(Int(real), n - 1)
            let l1 = min(max(real - Float(i0), 0), 1)
            index[i] = i0  // the second tap is clamped to i0 at the last row/column, weight kept (as torch)
            w[2 * i] = 1 - l1
            w[2 * i + 1] = l1
        }
        return InterpolationTaps(index: index, weights: w, taps: 2)
    }
}

extension Kernels {
    /// Bicubic resize (a = −0.75, border-clamped, no antialias) of planar `[C, Hi, Wi]` → `[C, Ho, Wo]`.
    public static func interpolateBicubic(_ x: UnsafeBufferPointer<Float>, channels C: Int, height Hi: Int, width Wi: Int,
                                          out: UnsafeMutableBufferPointer<Float>, height Ho: Int, width Wo: Int) {
        separable(x, channels: C, height: Hi, width: Wi, out: out, height: Ho, width: Wo,
                  ty: .bicubic(from: Hi, to: Ho), tx: .bicubic(from: Wi, to: Wo))
    }

    /// Bilinear resize (no antialias) of planar `[C, Hi, Wi]` → `[C, Ho, Wo]`.
    public static func interpolateBilinear(_ x: UnsafeBufferPointer<Float>, channels C: Int, height Hi: Int, width Wi: Int,
                                           out: UnsafeMutableBufferPointer<Float>, height Ho: Int, width Wo: Int) {
        separable(x, channels: C, height: Hi, width: Wi, out: out, height: Ho, width: Wo,
                  ty: .bilinear(from: Hi, to: Ho), tx: .bilinear(from: Wi, to: Wo))
    }

    /// out[c, i, j] = Σ_a wy[a] · (Σ_b wx[b] · x[c, clamp(iy+a), clamp(ix+b)]).
    static func separable(_ x: UnsafeBufferPointer<Float>, channels C: Int, height Hi: Int, width Wi: Int,
                          out: UnsafeMutableBufferPointer<Float>, height Ho: Int, width Wo: Int,
                          ty: InterpolationTaps, tx: InterpolationTaps) {
        precondition(C > 0 && Hi > 0 && Wi > 0 && Ho > 0 && Wo > 0, "interpolate: empty size")
        precondition(x.count >= C * Hi * Wi && out.count >= C * Ho * Wo, "interpolate: buffer sizes")
        let xp = x.baseAddress!, op = out.baseAddress!
        parallelFor(C * Ho, grain: max(1, 4096 / Wo)) { rows in
            for r in rows {
                let c = r / Ho, i = r % Ho
                let plane = xp + c * Hi * Wi
                for j in 0 ..< Wo {
                    var sum: Float = 0
                    for a in 0 ..< ty.taps {
                        let y = min(max(ty.index[i] + a, 0), Hi - 1)
                        var row: Float = 0
                        for b in 0 ..< tx.taps {
                            let xx = min(max(tx.index[j] + b, 0), Wi - 1)
                            row += tx.weights[j * tx.taps + b] * plane[y * Wi + xx]
                        }
                        sum += ty.weights[i * ty.taps + a] * row
                    }
                    op[r * Wo + j] = sum
                }
            }
        }
    }

    /// Nearest-neighbour ×2 upsampling of a channels-last grid `[Hi, Wi, C]` → `[2Hi, 2Wi, C]`
    /// (`F.interpolate(scale_factor=2.0, mode="nearest")`: output (y, x) reads (y/2, x/2)).
    public static func upsampleNearest2x(_ x: UnsafeBufferPointer<Float>, height Hi: Int, width Wi: Int, channels C: Int,
                                         out: UnsafeMutableBufferPointer<Float>) {
        precondition(x.count >= Hi * Wi * C && out.count >= 4 * Hi * Wi * C, "upsampleNearest2x: buffer sizes")
        let xp = x.baseAddress!, op = out.baseAddress!
        for y in 0 ..< 2 * Hi {
            for xx in 0 ..< 2 * Wi {
                (op + (y * 2 * Wi + xx) * C).update(from: xp + ((y / 2) * Wi + xx / 2) * C, count: C)
            }
        }
    }
}
