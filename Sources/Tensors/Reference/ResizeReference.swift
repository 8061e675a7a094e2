// Naive twins of Kernels/Resize.swift: same signatures, plain loops, Double accumulation where a
// sum is involved. Tests compare the fast kernels against these.

extension Reference {
    /// Naive twin of `Kernels.resizeBicubicAntialias`: the same integer recipe evaluated per
    /// output pixel straight from the formulas (weights recomputed per pixel, no tables shared
    /// across rows, single thread).
    public static func resizeBicubicAntialias(_ src: UnsafeBufferPointer<UInt8>, width W: Int, height H: Int, channels C: Int,
                                              into dst: UnsafeMutableBufferPointer<UInt8>, width Wo: Int, height Ho: Int) {
        resizeAntialias(src, width: W, height: H, channels: C, into: dst, width: Wo, height: Ho, axis: AntialiasAxis.init(bicubicFrom:to:))
    }

    /// Naive twin of `Kernels.resizeBilinearAntialias` (same recipe, triangle filter).
    public static func resizeBilinearAntialias(_ src: UnsafeBufferPointer<UInt8>, width W: Int, height H: Int, channels C: Int,
                                               into dst: UnsafeMutableBufferPointer<UInt8>, width Wo: Int, height Ho: Int) {
        resizeAntialias(src, width: W, height: H, channels: C, into: dst, width: Wo, height: Ho, axis: AntialiasAxis.init(bilinearFrom:to:))
    }

    static func resizeAntialias(_ src: UnsafeBufferPointer<UInt8>, width W: Int, height H: Int, channels C: Int,
                                into dst: UnsafeMutableBufferPointer<UInt8>, width Wo: Int, height Ho: Int,
                                axis makeAxis: (Int, Int) -> AntialiasAxis) {
        if W == Wo && H == Ho {
            for i in 0 ..< W * H * C { dst[i] = src[i] }
            return
        }
        let ax = makeAxis(W, Wo), ay = makeAxis(H, Ho)
        // Horizontal pass (or identity).
        var mid = [UInt8](repeating: 0, count: H * Wo * C)
        for y in 0 ..< H {
            for x in 0 ..< Wo {
                for c in 0 ..< C {
                    if W == Wo { mid[(y * Wo + x) * C + c] = src[(y * W + x) * C + c]; continue }
                    var acc = 1 << (ax.precision - 1)
                    for j in 0 ..< ax.size[x] {
                        acc += Int(src[(y * W + ax.start[x] + j) * C + c]) * Int(ax.weights[x * ax.maxTaps + j])
                    }
                    mid[(y * Wo + x) * C + c] = UInt8(clamping: acc >> ax.precision)
                }
            }
        }
        for y in 0 ..< Ho {
            for x in 0 ..< Wo {
                for c in 0 ..< C {
                    if H == Ho { dst[(y * Wo + x) * C + c] = mid[(y * Wo + x) * C + c]; continue }
                    var acc = 1 << (ay.precision - 1)
                    for j in 0 ..< ay.size[y] {
                        acc += Int(mid[((ay.start[y] + j) * Wo + x) * C + c]) * Int(ay.weights[y * ay.maxTaps + j])
                    }
                    dst[(y * Wo + x) * C + c] = UInt8(clamping: acc >> ay.precision)
                }
            }
        }
    }

    /// Naive twin of `Kernels.resizeNearest` (indices from the Float32 formula alone).
    public static func resizeNearest(_ src: UnsafeBufferPointer<UInt8>, width W: Int, height H: Int, channels C: Int,
                                     into dst: UnsafeMutableBufferPointer<UInt8>, width Wo: Int, height Ho: Int) {
        func index(_ i: Int, _ n: Int, _ m: Int) -> Int {
            min(Int((Float(i) * (Float(n) / Float(m))).rounded(.down)), n - 1)
        }
        for y in 0 ..< Ho {
            for x in 0 ..< Wo {
                for c in 0 ..< C { dst[(y * Wo + x) * C + c] = src[(index(y, H, Ho) * W + index(x, W, Wo)) * C + c] }
            }
        }
    }

    /// Naive twin of `Kernels.resizeBicubicAntialiasFloat`: the same separable scheme written in
    /// Double (weights and sums), rounding half to even at the end. Agrees with the Float32 kernel
    /// up to ±1 level where a value sits near a rounding boundary.
    public static func resizeBicubicAntialiasFloat(_ src: UnsafeBufferPointer<UInt8>, width W: Int, height H: Int, channels C: Int,
                                                   into dst: UnsafeMutableBufferPointer<UInt8>, width Wo: Int, height Ho: Int) {
        func axis(_ n: Int, _ m: Int) -> [(Int, [Double])] {
            let scale = Double(n) / Double(m), support = scale >= 1 ? 2 * scale : 2, inv = scale >= 1 ? 1 / scale : 1
            return (0 ..< m).map { i in
                let center = scale * (Double(i) + 0.5)
                let lo = max(Int(center - support + 0.5), 0), hi = min(Int(center + support + 0.5), n)
                var w = (lo ..< hi).map { AntialiasAxis.keysCubic((Double($0) - center + 0.5) * inv) }
                let total = w.reduce(0, +)
                w = w.map { $0 / total }
                return (lo, w)
            }
        }
        var img = (0 ..< W * H * C).map { Double(src[$0]) }
        var w = W, h = H
        if W != Wo {
            let ax = axis(W, Wo)
            var out = [Double](repeating: 0, count: h * Wo * C)
            for y in 0 ..< h { for x in 0 ..< Wo { for c in 0 ..< C {
                var s = 0.0
                for (j, wj) in ax[x].1.enumerated() { s += img[(y * w + ax[x].0 + j) * C + c] * wj }
                out[(y * Wo + x) * C + c] = s
            } } }
            img = out; w = Wo
        }
        if H != Ho {
            let ay = axis(H, Ho)
            var out = [Double](repeating: 0, count: Ho * w * C)
            for y in 0 ..< Ho { for x in 0 ..< w { for c in 0 ..< C {
                var s = 0.0
                for (j, wj) in ay[y].1.enumerated() { s += img[((ay[y].0 + j) * w + x) * C + c] * wj }
                out[(y * w + x) * C + c] = s
            } } }
            img = out; h = Ho
        }
        for i in 0 ..< Wo * Ho * C { dst[i] = UInt8(min(max(img[i], 0), 255).rounded(.toNearestOrEven)) }
    }
}
