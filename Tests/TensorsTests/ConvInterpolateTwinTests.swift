// The kernels added for SAM 2 (Kernels/Conv.swift, Kernels/Interpolate.swift, the bilinear uint8
// resize) against their naive twins on random inputs of awkward shapes. End-to-end agreement
// with PyTorch is checked by the SAM 2 goldens (Tests/SAM2Tests).
import Foundation
import Testing
@testable import Tensors

@Suite struct ConvInterpolateTwinTests {
    /// Padded, strided conv (Hiera's 7×7 stride 4 padding 3 included) vs direct Double convolution.
    @Test(arguments: [(3, 29, 23, 7, 4, 3), (2, 8, 8, 3, 1, 1), (1, 5, 9, 2, 2, 0), (4, 6, 6, 5, 3, 2)])
    func conv2d(channels C: Int, height Hi: Int, width Wi: Int, kernel K: Int, stride s: Int, padding p: Int) {
        var rng = SeededRandom(seed: UInt64(C * 1000 + Hi * 10 + K))
        let D = 5
        let img = rng.normals(C * Hi * Wi), w = rng.normals(D * C * K * K, scale: 0.2), b = rng.normals(D)
        let T = Kernels.convOutputSize(Hi, kernel: K, stride: s, padding: p) * Kernels.convOutputSize(Wi, kernel: K, stride: s, padding: p)
        var f = [Float](repeating: .nan, count: T * D), r = f
        img.withUnsafeBufferPointer { ib in
            w.withUnsafeBufferPointer { wb in
                b.withUnsafeBufferPointer { bb in
                    f.withUnsafeMutableBufferPointer {
                        Kernels.conv2d(image: ib, channels: C, height: Hi, width: Wi, kernel: K, stride: s, padding: p, weight: wb, bias: bb, outChannels: D, out: $0)
                    }
                    r.withUnsafeMutableBufferPointer {
                        Reference.conv2d(image: ib, channels: C, height: Hi, width: Wi, kernel: K, stride: s, padding: p, weight: wb, bias: bb, outChannels: D, out: $0)
                    }
                }
            }
        }
        #expect(maxRelDiff(f, r) <= 2e-5, "conv2d: \(maxRelDiff(f, r))")
    }

    @Test(arguments: [(8, 8, 2), (7, 9, 2), (6, 6, 3), (1, 1, 1)])
    func maxPool(height Hi: Int, width Wi: Int, kernel K: Int) {
        var rng = SeededRandom(seed: UInt64(Hi * 10 + Wi))
        let C = 5
        let x = rng.normals(Hi * Wi * C)
        var f = [Float](repeating: .nan, count: (Hi / K) * (Wi / K) * C), r = f
        x.withUnsafeBufferPointer { xb in
            f.withUnsafeMutableBufferPointer { Kernels.maxPool2d(xb, height: Hi, width: Wi, channels: C, kernel: K, out: $0) }
            r.withUnsafeMutableBufferPointer { Reference.maxPool2d(xb, height: Hi, width: Wi, channels: C, kernel: K, out: $0) }
        }
        #expect(f == r)
    }

    /// Up and down, square and not (Float32 taps vs Double: a few ulps of the output scale).
    @Test(arguments: [(7, 7, 32, 32), (7, 7, 256, 256), (32, 32, 100, 160), (32, 32, 13, 9), (5, 3, 5, 3), (1, 4, 3, 8)])
    func interpolate(height Hi: Int, width Wi: Int, outHeight Ho: Int, outWidth Wo: Int) {
        var rng = SeededRandom(seed: UInt64(Hi * 1000 + Wi * 100 + Ho))
        let C = 3
        let x = rng.normals(C * Hi * Wi)
        var f = [Float](repeating: .nan, count: C * Ho * Wo), r = f
        x.withUnsafeBufferPointer { xb in
            f.withUnsafeMutableBufferPointer { Kernels.interpolateBicubic(xb, channels: C, height: Hi, width: Wi, out: $0, height: Ho, width: Wo) }
            r.withUnsafeMutableBufferPointer { Reference.interpolateBicubic(xb, channels: C, height: Hi, width: Wi, out: $0, height: Ho, width: Wo) }
        }
        #expect(maxRelDiff(f, r) <= 1e-5, "bicubic: \(maxRelDiff(f, r))")
        x.withUnsafeBufferPointer { xb in
            f.withUnsafeMutableBufferPointer { Kernels.interpolateBilinear(xb, channels: C, height: Hi, width: Wi, out: $0, height: Ho, width: Wo) }
            r.withUnsafeMutableBufferPointer { Reference.interpolateBilinear(xb, channels: C, height: Hi, width: Wi, out: $0, height: Ho, width: Wo) }
        }
        #expect(maxRelDiff(f, r) <= 1e-5, "bilinear: \(maxRelDiff(f, r))")
    }

    /// Interpolating a constant gives the constant (bicubic weights sum to 1; border clamping).
    @Test func interpolateKeepsConstants() {
        let x = [Float](repeating: 2.5, count: 7 * 7)
        var out = [Float](repeating: 0, count: 32 * 32)
        x.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer { Kernels.interpolateBicubic(xb, channels: 1, height: 7, width: 7, out: $0, height: 32, width: 32) }
        }
        #expect(out.allSatisfy { abs($0 - 2.5) <= 1e-6 })
    }

    @Test func upsampleNearest2x() {
        var rng = SeededRandom(seed: 42)
        let x = rng.normals(3 * 5 * 4)
        var f = [Float](repeating: .nan, count: 4 * 3 * 5 * 4), r = f
        x.withUnsafeBufferPointer { xb in
            f.withUnsafeMutableBufferPointer { Kernels.upsampleNearest2x(xb, height: 3, width: 5, channels: 4, out: $0) }
            r.withUnsafeMutableBufferPointer { Reference.upsampleNearest2x(xb, height: 3, width: 5, channels: 4, out: $0) }
        }
        #expect(f == r)
    }

    @Test(arguments: [(160, 100, 128, 128), (17, 11, 40, 23), (300, 7, 13, 7), (64, 48, 29, 31)])
    func bilinearResize(width W: Int, height H: Int, outWidth Wo: Int, outHeight Ho: Int) {
        var rng = SeededRandom(seed: UInt64(W * H + Wo))
        let C = 3
        let src = rng.bytes(W * H * C)
        var f = [UInt8](repeating: 0, count: Wo * Ho * C), s = f
        src.withUnsafeBufferPointer { sb in
            f.withUnsafeMutableBufferPointer { Kernels.resizeBilinearAntialias(sb, width: W, height: H, channels: C, into: $0, width: Wo, height: Ho) }
            s.withUnsafeMutableBufferPointer { Reference.resizeBilinearAntialias(sb, width: W, height: H, channels: C, into: $0, width: Wo, height: Ho) }
        }
        #expect(f == s)
    }
}
