// Every fast kernel against its naive twin (Reference) on random inputs of awkward shapes.
import Foundation
import Testing
@testable import Tensors

@Suite struct KernelTwinTests {
    // MARK: products

    /// sgemm/sgemv vs a Double triple loop. Float32 accumulation over C terms of N(0,1)·N(0,1):
    /// error ~ √C·ulp; 2e-5 relative to the largest output is ≫ that and ≪ any indexing bug.
    @Test(arguments: [(1, 1, 1), (1, 37, 29), (3, 37, 29), (17, 64, 5), (65, 130, 33), (1, 300, 1000)])
    func linear(rows T: Int, inFeatures C: Int, outFeatures OC: Int) {
        var rng = SeededRandom(seed: UInt64(T * 1000 + C * 10 + OC))
        let x = rng.normals(T * C), w = rng.normals(OC * C), b = rng.normals(OC)
        for useBias in [true, false] {
            var fast = [Float](repeating: .nan, count: T * OC), slow = fast
            x.withUnsafeBufferPointer { xb in
                w.withUnsafeBufferPointer { wb in
                    b.withUnsafeBufferPointer { bb in
                        fast.withUnsafeMutableBufferPointer {
                            Kernels.linear(x: xb, weight: wb, bias: useBias ? bb : nil, out: $0, rows: T, inFeatures: C, outFeatures: OC)
                        }
                        slow.withUnsafeMutableBufferPointer {
                            Reference.linear(x: xb, weight: wb, bias: useBias ? bb : nil, out: $0, rows: T, inFeatures: C, outFeatures: OC)
                        }
                    }
                }
            }
            #expect(maxRelDiff(fast, slow) <= 2e-5, "linear \(T)×\(C)→\(OC) bias \(useBias): \(maxRelDiff(fast, slow))")
        }
    }

    /// General gemm with transposes, strides and beta.
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func gemm(transA: Bool, transB: Bool) {
        var rng = SeededRandom(seed: transA ? (transB ? 1 : 2) : (transB ? 3 : 4))
        let m = 13, n = 21, k = 34, lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 5, ldc = n + 2
        let a = rng.normals((transA ? k : m) * lda), b = rng.normals((transB ? n : k) * ldb)
        var c1 = rng.normals(m * ldc), c2 = c1
        a.withUnsafeBufferPointer { ab in
            b.withUnsafeBufferPointer { bb in
                c1.withUnsafeMutableBufferPointer {
                    Kernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, a: ab.baseAddress!, lda: lda,
                                 b: bb.baseAddress!, ldb: ldb, beta: 0.3, c: $0.baseAddress!, ldc: ldc)
                }
                c2.withUnsafeMutableBufferPointer {
                    Reference.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, a: ab.baseAddress!, lda: lda,
                                   b: bb.baseAddress!, ldb: ldb, beta: 0.3, c: $0.baseAddress!, ldc: ldc)
                }
            }
        }
        // padding columns (j ≥ n) must be untouched: compare whole buffers
        #expect(maxRelDiff(c1, c2) <= 2e-5)
    }

    // MARK: norms

    /// Float32 SIMD statistics vs Double: outputs are O(|w|·3); 2e-5 relative covers the
    /// Float32 mean/variance rounding over ≤ 1000 terms.
    @Test(arguments: [(1, 1), (3, 17), (5, 64), (7, 300), (2, 1001)])
    func norms(rows R: Int, cols N: Int) {
        var rng = SeededRandom(seed: UInt64(R * 7919 + N))
        let x = rng.normals(R * N, scale: 3).map { $0 + 0.7 }, w = rng.normals(N), b = rng.normals(N)
        var f = [Float](repeating: 0, count: R * N), s = f
        x.withUnsafeBufferPointer { xb in
            w.withUnsafeBufferPointer { wb in
                b.withUnsafeBufferPointer { bb in
                    f.withUnsafeMutableBufferPointer { Kernels.layerNorm(xb, weight: wb, bias: bb, eps: 1e-5, out: $0, rows: R, cols: N) }
                    s.withUnsafeMutableBufferPointer { Reference.layerNorm(xb, weight: wb, bias: bb, eps: 1e-5, out: $0, rows: R, cols: N) }
                }
            }
        }
        if N > 1 { #expect(maxRelDiff(f, s) <= 2e-5, "layerNorm \(R)×\(N)") } else { #expect(maxAbsDiff(f, s) <= 1e-5) }
        x.withUnsafeBufferPointer { xb in
            w.withUnsafeBufferPointer { wb in
                f.withUnsafeMutableBufferPointer { Kernels.rmsNorm(xb, weight: wb, eps: 1e-5, out: $0, rows: R, cols: N) }
                s.withUnsafeMutableBufferPointer { Reference.rmsNorm(xb, weight: wb, eps: 1e-5, out: $0, rows: R, cols: N) }
            }
        }
        #expect(maxRelDiff(f, s) <= 2e-5, "rmsNorm \(R)×\(N)")
    }

    /// In-place use (x aliases out) gives the same result as out-of-place.
    @Test func normsInPlace() {
        var rng = SeededRandom(seed: 5)
        let x = rng.normals(4 * 50), w = rng.normals(50)
        var inPlace = x, out = [Float](repeating: 0, count: x.count)
        w.withUnsafeBufferPointer { wb in
            x.withUnsafeBufferPointer { xb in out.withUnsafeMutableBufferPointer { Kernels.rmsNorm(xb, weight: wb, eps: 1e-6, out: $0, rows: 4, cols: 50) } }
            inPlace.withUnsafeMutableBufferPointer { Kernels.rmsNorm(UnsafeBufferPointer($0), weight: wb, eps: 1e-6, out: $0, rows: 4, cols: 50) }
        }
        #expect(inPlace == out)
    }

    // MARK: elementwise

    @Test func elementwise() {
        var rng = SeededRandom(seed: 9)
        let R = 37, N = 53
        let a = rng.normals(R * N), b = rng.normals(R * N), g = rng.normals(N)
        var f = a, s = a
        g.withUnsafeBufferPointer { gb in
            b.withUnsafeBufferPointer { bb in
                f.withUnsafeMutableBufferPointer { Kernels.addScaledRows($0, bb, gamma: gb, rows: R, cols: N) }
                s.withUnsafeMutableBufferPointer { Reference.addScaledRows($0, bb, gamma: gb, rows: R, cols: N) }
                f.withUnsafeMutableBufferPointer { Kernels.addInPlace($0, bb) }
                s.withUnsafeMutableBufferPointer { Reference.addInPlace($0, bb) }
                f.withUnsafeMutableBufferPointer { Kernels.addRowVector($0, gb, rows: R, cols: N) }
                s.withUnsafeMutableBufferPointer { Reference.addRowVector($0, gb, rows: R, cols: N) }
                f.withUnsafeMutableBufferPointer { Kernels.scaleInPlace($0, by: 0.37) }
                s.withUnsafeMutableBufferPointer { Reference.scaleInPlace($0, by: 0.37) }
            }
        }
        // same Float32 operations in the same order: identical
        #expect(f == s)
        var m1 = [Float](repeating: 0, count: a.count), m2 = m1
        a.withUnsafeBufferPointer { ab in
            b.withUnsafeBufferPointer { bb in
                m1.withUnsafeMutableBufferPointer { Kernels.mul(ab, bb, $0) }
                m2.withUnsafeMutableBufferPointer { Reference.mul(ab, bb, $0) }
            }
        }
        #expect(m1 == m2)
        var up = rng.normals(1031), gate1 = rng.normals(1031, scale: 3)
        var gate2 = gate1
        up.withUnsafeMutableBufferPointer { ub in
            gate1.withUnsafeMutableBufferPointer { Kernels.siluMul(gate: $0, up: UnsafeBufferPointer(ub)) }
            gate2.withUnsafeMutableBufferPointer { Reference.siluMul(gate: $0, up: UnsafeBufferPointer(ub)) }
        }
        // silu(x)·up: a few ulp of the product (|x| ≤ ~12)
        #expect(maxAbsDiff(gate1, gate2) <= 4e-6)
    }

    // MARK: RoPE

    /// Both conventions: identical Float32 formulas vs Double — within 2 ulp of |v|·(|cos|+|sin|).
    @Test(arguments: [(5, 0, 2, 8), (9, 1, 3, 16), (33, 1, 4, 64)])
    func rope(rows T: Int, prefix: Int, heads H: Int, headDim D: Int) {
        var rng = SeededRandom(seed: UInt64(T * 31 + D))
        let stride = 3 * H * D + 5  // q inside a wider fused row
        let x = rng.normals(T * stride)
        let vision = Rope.visionTable(gridHeight: 1, gridWidth: T - prefix, headDim: D, gridOffset: 1)
        var f = x, s = x
        f.withUnsafeMutableBufferPointer { Kernels.ropeInterleaved($0.baseAddress!, rowStride: stride, rows: T, prefix: prefix, heads: H, table: vision) }
        s.withUnsafeMutableBufferPointer { Reference.ropeInterleaved($0.baseAddress!, rowStride: stride, rows: T, prefix: prefix, heads: H, table: vision) }
        #expect(maxAbsDiff(f, s) <= 4e-6, "interleaved")
        // prefix rows and the unrotated tail of each row are untouched
        for c in 0 ..< stride * prefix { #expect(f[c] == x[c]) }
        for t in 0 ..< T { for c in H * D ..< stride { #expect(f[t * stride + c] == x[t * stride + c]) } }

        let inv = Rope.llama3InvFreq(headDim: D, theta: 500000, factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192)
        let table = Rope.halfSplitTable(invFreq: inv, positions: (0 ..< T).map { $0 * 37 + 3 })
        f = x; s = x
        f.withUnsafeMutableBufferPointer { Kernels.ropeHalfSplit($0.baseAddress!, rowStride: stride, rows: T, heads: H, table: table) }
        s.withUnsafeMutableBufferPointer { Reference.ropeHalfSplit($0.baseAddress!, rowStride: stride, rows: T, heads: H, table: table) }
        #expect(maxAbsDiff(f, s) <= 4e-6, "half-split")
    }

    /// 'ij' indexing puts the row angles first: on a square grid it is the 'xy' table of the
    /// transposed grid.
    @Test func visionTableIndexing() {
        let xy = Rope.visionTable(gridHeight: 5, gridWidth: 5, headDim: 16, gridOffset: 1)
        let ij = Rope.visionTable(gridHeight: 5, gridWidth: 5, headDim: 16, gridOffset: 1, indexing: "ij")
        for r in 0 ..< 5 {
            for c in 0 ..< 5 {
                let a = (r * 5 + c) * 16, b = (c * 5 + r) * 16
                #expect(Array(ij.sin[a ..< a + 16]) == Array(xy.sin[b ..< b + 16]))
                #expect(Array(ij.cos[a ..< a + 16]) == Array(xy.cos[b ..< b + 16]))
            }
        }
    }

    // MARK: attention

    /// Blocked sgemm attention vs the Double twin: non-causal, causal prefill, causal with a
    /// cache offset, GQA groups, and the single-row decode path. Outputs are convex
    /// combinations of N(0,1) values: 2e-5 absolute covers Float32 scores and the ≤ 2 ulp exp.
    @Test(arguments: [
        (7, 7, 2, 2, 8, nil as Int?), (37, 37, 4, 4, 16, nil), (300, 300, 2, 2, 16, nil),
        (9, 9, 4, 1, 8, 0), (5, 12, 8, 2, 16, 7), (1, 40, 8, 2, 16, 39), (1, 1, 4, 4, 8, 0), (1, 23, 6, 6, 4, nil),
        (70, 300, 4, 2, 8, 230),
    ])
    func attention(queries T: Int, keys S: Int, heads H: Int, kvHeads Hkv: Int, headDim D: Int, causalOffset: Int?) {
        var rng = SeededRandom(seed: UInt64(T * 1009 + S * 31 + H))
        let qs = H * D + 3, ks = Hkv * D + 1, os = H * D + 2
        let q = rng.normals(T * qs, scale: 0.8), k = rng.normals(S * ks, scale: 0.8), v = rng.normals(S * ks)
        var f = [Float](repeating: -7, count: T * os), s = f
        let layout = AttentionLayout(qRowStride: qs, kRowStride: ks, vRowStride: ks, outRowStride: os)
        let scale = 1 / Float(D).squareRoot()
        q.withUnsafeBufferPointer { qb in
            k.withUnsafeBufferPointer { kb in
                v.withUnsafeBufferPointer { vb in
                    f.withUnsafeMutableBufferPointer {
                        Kernels.attention(q: qb.baseAddress!, k: kb.baseAddress!, v: vb.baseAddress!, out: $0.baseAddress!, layout: layout,
                                          queries: T, keys: S, heads: H, kvHeads: Hkv, headDim: D, scale: scale, causalOffset: causalOffset)
                    }
                    s.withUnsafeMutableBufferPointer {
                        Reference.attention(q: qb.baseAddress!, k: kb.baseAddress!, v: vb.baseAddress!, out: $0.baseAddress!, layout: layout,
                                            queries: T, keys: S, heads: H, kvHeads: Hkv, headDim: D, scale: scale, causalOffset: causalOffset)
                    }
                }
            }
        }
        #expect(maxAbsDiff(f, s) <= 2e-5, "attention T=\(T) S=\(S) H=\(H)/\(Hkv) D=\(D) offset \(String(describing: causalOffset)): \(maxAbsDiff(f, s))")
        // the padding columns of each output row were not written
        for t in 0 ..< T { for c in H * D ..< os { #expect(f[t * os + c] == -7) } }
    }

    // MARK: vision helpers

    @Test(arguments: [(3, 28, 42, 14), (1, 8, 4, 2), (3, 56, 56, 14)])
    func patchEmbed(channels C: Int, height Hi: Int, width Wi: Int, patch P: Int) {
        var rng = SeededRandom(seed: UInt64(C * Hi * Wi))
        let D = 11
        let img = rng.normals(C * Hi * Wi), w = rng.normals(D * C * P * P, scale: 0.1), b = rng.normals(D)
        let T = (Hi / P) * (Wi / P)
        var cols1 = [Float](repeating: 0, count: T * C * P * P), cols2 = cols1
        img.withUnsafeBufferPointer { ib in
            cols1.withUnsafeMutableBufferPointer { Kernels.im2col(image: ib, channels: C, height: Hi, width: Wi, patch: P, out: $0) }
            cols2.withUnsafeMutableBufferPointer { Reference.im2col(image: ib, channels: C, height: Hi, width: Wi, patch: P, out: $0) }
        }
        #expect(cols1 == cols2)
        var f = [Float](repeating: 0, count: T * D), s = f
        img.withUnsafeBufferPointer { ib in
            w.withUnsafeBufferPointer { wb in
                b.withUnsafeBufferPointer { bb in
                    f.withUnsafeMutableBufferPointer { Kernels.patchEmbed(image: ib, channels: C, height: Hi, width: Wi, patch: P, weight: wb, bias: bb, embedDim: D, out: $0) }
                    s.withUnsafeMutableBufferPointer { Reference.patchEmbed(image: ib, channels: C, height: Hi, width: Wi, patch: P, weight: wb, bias: bb, embedDim: D, out: $0) }
                }
            }
        }
        #expect(maxRelDiff(f, s) <= 2e-5)
    }

    /// Pooling: Float32 window sums of ≤ 4·9 terms vs Double.
    @Test(arguments: [(32, 32, 16, 16), (7, 5, 3, 2), (6, 6, 6, 6), (5, 9, 2, 4), (1, 1, 1, 1)])
    func adaptiveAvgPool(height Hi: Int, width Wi: Int, outHeight Ho: Int, outWidth Wo: Int) {
        var rng = SeededRandom(seed: UInt64(Hi * 100 + Wi * 10 + Ho))
        let C = 13
        let x = rng.normals(Hi * Wi * C)
        var f = [Float](repeating: 0, count: Ho * Wo * C), s = f
        x.withUnsafeBufferPointer { xb in
            f.withUnsafeMutableBufferPointer { Kernels.adaptiveAvgPool2d(xb, height: Hi, width: Wi, channels: C, outHeight: Ho, outWidth: Wo, out: $0) }
            s.withUnsafeMutableBufferPointer { Reference.adaptiveAvgPool2d(xb, height: Hi, width: Wi, channels: C, outHeight: Ho, outWidth: Wo, out: $0) }
        }
        #expect(maxAbsDiff(f, s) <= 1e-6)
    }

    /// RoI-Align vs the per-channel Double twin, boxes inside, across and outside the map.
    @Test(arguments: [
        (RoIBox(x1: 3.2, y1: 4.7, x2: 20.1, y2: 17.9), Float(1), 2, true),
        (RoIBox(x1: -3, y1: -2.5, x2: 10, y2: 6), Float(1), 2, true),
        (RoIBox(x1: 40, y1: 25, x2: 52, y2: 35.5), Float(1), 0, false),
        (RoIBox(x1: 0.4 * 48, y1: 0.25 * 32, x2: 0.9 * 48, y2: 0.8 * 32), Float(1.0 / 28), 2, true),
        (RoIBox(x1: 100, y1: 100, x2: 120, y2: 130), Float(1), 2, true),
    ])
    func roiAlign(box: RoIBox, scale: Float, sampling: Int, aligned: Bool) {
        var rng = SeededRandom(seed: UInt64(box.x1.bitPattern))
        let H = 32, W = 48, C = 9
        let feat = rng.normals(H * W * C)
        let p = RoIAlignParameters(outHeight: 7, outWidth: 5, spatialScale: scale, samplingRatio: sampling, aligned: aligned)
        var f = [Float](repeating: .nan, count: 7 * 5 * C), s = f
        feat.withUnsafeBufferPointer { fb in
            f.withUnsafeMutableBufferPointer { Kernels.roiAlign(features: fb, height: H, width: W, channels: C, box: box, parameters: p, out: $0) }
            s.withUnsafeMutableBufferPointer { Reference.roiAlign(features: fb, height: H, width: W, channels: C, box: box, parameters: p, out: $0) }
        }
        // bilinear mixes of N(0,1) values: Float32 vs Double coordinates differ by ~1e-6 cells
        #expect(maxAbsDiff(f, s) <= 2e-5, "\(box): \(maxAbsDiff(f, s))")
    }

    // MARK: resize

    @Test(arguments: [(17, 11, 3, 40, 23), (64, 48, 3, 29, 31), (50, 50, 1, 50, 17), (50, 50, 3, 23, 50), (9, 9, 3, 9, 9),
                      (300, 7, 2, 13, 7), (5, 400, 1, 5, 9)])
    func resize(width W: Int, height H: Int, channels C: Int, outWidth Wo: Int, outHeight Ho: Int) {
        var rng = SeededRandom(seed: UInt64(W * H + Wo))
        let src = rng.bytes(W * H * C)
        var f = [UInt8](repeating: 0, count: Wo * Ho * C), s = f
        src.withUnsafeBufferPointer { sb in
            f.withUnsafeMutableBufferPointer { Kernels.resizeBicubicAntialias(sb, width: W, height: H, channels: C, into: $0, width: Wo, height: Ho) }
            s.withUnsafeMutableBufferPointer { Reference.resizeBicubicAntialias(sb, width: W, height: H, channels: C, into: $0, width: Wo, height: Ho) }
        }
        #expect(f == s, "bicubic")
        src.withUnsafeBufferPointer { sb in
            f.withUnsafeMutableBufferPointer { Kernels.resizeBicubicAntialiasFloat(sb, width: W, height: H, channels: C, into: $0, width: Wo, height: Ho) }
            s.withUnsafeMutableBufferPointer { Reference.resizeBicubicAntialiasFloat(sb, width: W, height: H, channels: C, into: $0, width: Wo, height: Ho) }
        }
        // Float32 kernel vs Double twin: ±1 level at rounding boundaries only
        let off = zip(f, s).filter { $0 != $1 }
        #expect(off.allSatisfy { abs(Int($0) - Int($1)) <= 1 } && off.count * 100 <= f.count, "float path: \(off.count) bytes off")
        let ids = rng.bytes(W * H * C, below: 5)
        ids.withUnsafeBufferPointer { sb in
            f.withUnsafeMutableBufferPointer { Kernels.resizeNearest(sb, width: W, height: H, channels: C, into: $0, width: Wo, height: Ho) }
            s.withUnsafeMutableBufferPointer { Reference.resizeNearest(sb, width: W, height: H, channels: C, into: $0, width: Wo, height: Ho) }
        }
        #expect(f == s, "nearest")
    }

    /// Constant images stay constant under the bicubic resize (weights sum to 2^p), up and down.
    @Test func resizeKeepsConstants() {
        for v: UInt8 in [0, 1, 128, 254, 255] {
            let img = ImageU8(width: 37, height: 23, channels: 3, pixels: [UInt8](repeating: v, count: 37 * 23 * 3))
            for (w, h) in [(448, 448), (13, 7), (37, 100)] {
                #expect(img.resizedBicubicAntialias(width: w, height: h, path: .torchvisionV1Float).pixels.allSatisfy { $0 == v })
                #expect(img.resizedBicubicAntialias(width: w, height: h, path: .torchvisionV2UInt8).pixels.allSatisfy { $0 == v })
            }
        }
    }
}
