// General Conv2d (square kernel, stride, zero padding) as im2col + GEMM, and max pooling, for
// SAM 2's Hiera patch embedding (7×7, stride 4, padding 3) and q-pooling (2×2 max pool).
// PatchEmbed.swift covers the kernel = stride, no-padding case without the padding checks.

extension Kernels {
    /// Output size of a convolution or pooling along one axis (PyTorch's floor rule).
    public static func convOutputSize(_ n: Int, kernel K: Int, stride s: Int, padding p: Int) -> Int {
        (n + 2 * p - K) / s + 1
    }

    /// im2col for a Conv2d with a `K×K` kernel, stride `s` and zero padding `p`:
    /// `image: [C, Hi, Wi]` planar → `out: [Ho·Wo, C·K·K]`, row `r·Wo + c`, within a row the
    /// order `(c, kh, kw)` of `conv.weight.reshape(D, -1)`.
    public static func im2col(image: UnsafeBufferPointer<Float>, channels C: Int, height Hi: Int, width Wi: Int,
                              kernel K: Int, stride s: Int, padding p: Int, out: UnsafeMutableBufferPointer<Float>) {
        precondition(K > 0 && s > 0 && p >= 0, "im2col: kernel \(K), stride \(s), padding \(p)")
        let Ho = convOutputSize(Hi, kernel: K, stride: s, padding: p), Wo = convOutputSize(Wi, kernel: K, stride: s, padding: p)
        let cols = C * K * K
        precondition(Ho > 0 && Wo > 0, "im2col: \(Hi)×\(Wi) is smaller than kernel \(K)")
        precondition(image.count >= C * Hi * Wi && out.count >= Ho * Wo * cols, "im2col: buffer sizes")
        let ip = image.baseAddress!, op = out.baseAddress!
        parallelFor(Ho, grain: 1) { rows in
            for r in rows {
                for col in 0 ..< Wo {
                    let dst = op + (r * Wo + col) * cols
                    for c in 0 ..< C {
                        for kh in 0 ..< K {
                            let y = r * s - p + kh
                            for kw in 0 ..< K {
                                let x = col * s - p + kw
                                let inside = y >= 0 && y < Hi && x >= 0 && x < Wi
                                dst[(c * K + kh) * K + kw] = inside ? ip[(c * Hi + y) * Wi + x] : 0
                            }
                        }
                    }
                }
            }
        }
    }

    /// Conv2d(C→D, `K×K`, stride `s`, zero padding `p`) as im2col + GEMM: `image: [C, Hi, Wi]`,
    /// `weight: [D, C, K, K]`, `bias: [D]?` → `out: [Ho·Wo, D]` (channels last).
    public static func conv2d(image: UnsafeBufferPointer<Float>, channels C: Int, height Hi: Int, width Wi: Int,
                              kernel K: Int, stride s: Int, padding p: Int,
                              weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?,
                              outChannels D: Int, out: UnsafeMutableBufferPointer<Float>) {
        let T = convOutputSize(Hi, kernel: K, stride: s, padding: p) * convOutputSize(Wi, kernel: K, stride: s, padding: p)
        let cols = C * K * K
        precondition(weight.count == D * cols, "conv2d: weight has \(weight.count) values, expected \(D)×\(cols)")
        var buffer = [Float](repeating: 0, count: T * cols)
        buffer.withUnsafeMutableBufferPointer { b in
            im2col(image: image, channels: C, height: Hi, width: Wi, kernel: K, stride: s, padding: p, out: b)
            linear(x: UnsafeBufferPointer(b), weight: weight, bias: bias, out: out, rows: T, inFeatures: cols, outFeatures: D)
        }
    }

    /// Max pooling with a `K×K` window and stride `K` (floor mode, no padding) on a channels-last
    /// grid `[Hi, Wi, C]` → `[Hi/K, Wi/K, C]` (PyTorch `max_pool2d(kernel_size=K, stride=K)`).
    /// NaN propagates as in PyTorch.
    public static func maxPool2d(_ x: UnsafeBufferPointer<Float>, height Hi: Int, width Wi: Int, channels C: Int,
                                 kernel K: Int, out: UnsafeMutableBufferPointer<Float>) {
        let Ho = Hi / K, Wo = Wi / K
        precondition(K > 0 && x.count >= Hi * Wi * C && out.count >= Ho * Wo * C, "maxPool2d: buffer sizes")
        let xp = x.baseAddress!, op = out.baseAddress!
        parallelFor(Ho, grain: 1) { rows in
            for i in rows {
                for j in 0 ..< Wo {
                    let dst = op + (i * Wo + j) * C
                    dst.update(from: xp + ((i * K) * Wi + j * K) * C, count: C)
                    for dy in 0 ..< K {
                        for dx in 0 ..< K where dy + dx > 0 {
                            let src = xp + ((i * K + dy) * Wi + j * K + dx) * C
                            for c in 0 ..< C {
                                let v = src[c]
                                if v > dst[c] || v.isNaN { dst[c] = v }
                            }
                        }
                    }
                }
            }
        }
    }
}
