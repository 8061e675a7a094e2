// Micro-benchmarks of whole transformer blocks built from Tensors' kernels, with the shapes of
// GAR-1B (ViT-L block at 1025 tokens; Llama-3.2-1B layer for prefill and for one decode step).
// Random weights; buffers allocated once outside the timed loop, as a model would. Run through
// `gar bench ops`; Tests/Fixtures/generate/bench_torch_blocks.py times the same blocks in PyTorch.
import Foundation

public enum BlockBenchmarks {
    public struct Result: Sendable, Codable {
        public var name: String
        public var reps: Int
        public var meanMs: Double
        public var sdMs: Double
        /// Matrix-multiply FLOPs per run (attention included), for GFLOP/s.
        public var flops: Double
        public var gflops: Double { flops / (meanMs * 1e6) }
    }

    static func time(_ name: String, reps: Int, flops: Double, warmup: Int = 1, _ body: () -> Void) -> Result {
        for _ in 0 ..< warmup { body() }
        var samples: [Double] = []
        for _ in 0 ..< reps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        let mean = samples.reduce(0, +) / Double(reps)
        let sd = (samples.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(reps - 1, 1))).squareRoot()
        return Result(name: name, reps: reps, meanMs: mean, sdMs: sd, flops: flops)
    }

    /// Deterministic pseudo-random values in [-scale, scale).
    static func values(_ n: Int, seed: UInt64, scale: Float) -> [Float] {
        var s = seed
        return (0 ..< n).map { _ in
            s = s &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Float(s >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
    }

    /// One Perception-Encoder block (timm EvaBlock + AttentionRope): LN, fused qkv, 2-D RoPE
    /// (CLS skipped), attention, proj, LayerScale residual, LN, fc1, GELU, fc2, LayerScale residual.
    public static func visionBlock(tokens T: Int = 1025, dim D: Int = 1024, heads H: Int = 16, mlp M: Int = 4096,
                                   reps: Int = 5) -> Result {
        let hd = D / H
        let wqkv = values(3 * D * D, seed: 1, scale: 0.03), bqkv = values(3 * D, seed: 2, scale: 0.01)
        let wproj = values(D * D, seed: 3, scale: 0.03), bproj = values(D, seed: 4, scale: 0.01)
        let w1 = values(M * D, seed: 5, scale: 0.03), b1 = values(M, seed: 6, scale: 0.01)
        let w2 = values(D * M, seed: 7, scale: 0.015), b2 = values(D, seed: 8, scale: 0.01)
        let ln1w = values(D, seed: 9, scale: 1), ln1b = values(D, seed: 10, scale: 0.1)
        let ln2w = values(D, seed: 11, scale: 1), ln2b = values(D, seed: 12, scale: 0.1)
        let g1 = values(D, seed: 13, scale: 0.1), g2 = values(D, seed: 14, scale: 0.1)
        let grid = Int(Double(T - 1).squareRoot())
        let rope = Rope.visionTable(gridHeight: grid, gridWidth: (T - 1) / grid, headDim: hd, gridOffset: 1,
                                    refFeatHeight: grid, refFeatWidth: (T - 1) / grid)
        var x = values(T * D, seed: 15, scale: 1)
        var h = [Float](repeating: 0, count: T * D), qkv = [Float](repeating: 0, count: T * 3 * D)
        var attn = [Float](repeating: 0, count: T * D), o = [Float](repeating: 0, count: T * D)
        var m = [Float](repeating: 0, count: T * M)
        let flops = 2.0 * Double(T) * Double(4 * D * D + 2 * D * M) + 4.0 * Double(T) * Double(T) * Double(D)
        return time("vision block \(T)×\(D), \(H) heads, MLP \(M)", reps: reps, flops: flops) {
            x.withUnsafeMutableBufferPointer { xb in
                let xr = UnsafeBufferPointer(xb)
                h.withUnsafeMutableBufferPointer { hb in
                    qkv.withUnsafeMutableBufferPointer { qb in
                        attn.withUnsafeMutableBufferPointer { ab in
                            o.withUnsafeMutableBufferPointer { ob in
                                m.withUnsafeMutableBufferPointer { mb in
                                    ln1w.withUnsafeBufferPointer { lw in ln1b.withUnsafeBufferPointer { lb in
                                        Kernels.layerNorm(xr, weight: lw, bias: lb, eps: 1e-5, out: hb, rows: T, cols: D) } }
                                    wqkv.withUnsafeBufferPointer { w in bqkv.withUnsafeBufferPointer { b in
                                        Kernels.linear(x: UnsafeBufferPointer(hb), weight: w, bias: b, out: qb, rows: T, inFeatures: D, outFeatures: 3 * D) } }
                                    let q = qb.baseAddress!
                                    Kernels.ropeInterleaved(q, rowStride: 3 * D, rows: T, prefix: 1, heads: H, table: rope)
                                    Kernels.ropeInterleaved(q + D, rowStride: 3 * D, rows: T, prefix: 1, heads: H, table: rope)
                                    Kernels.attention(q: q, k: q + D, v: q + 2 * D, out: ab.baseAddress!, layout: .fusedQKV(heads: H, headDim: hd),
                                                      queries: T, keys: T, heads: H, kvHeads: H, headDim: hd,
                                                      scale: 1 / Float(hd).squareRoot(), causalOffset: nil)
                                    wproj.withUnsafeBufferPointer { w in bproj.withUnsafeBufferPointer { b in
                                        Kernels.linear(x: UnsafeBufferPointer(ab), weight: w, bias: b, out: ob, rows: T, inFeatures: D, outFeatures: D) } }
                                    g1.withUnsafeBufferPointer { g in Kernels.addScaledRows(xb, UnsafeBufferPointer(ob), gamma: g, rows: T, cols: D) }
                                    ln2w.withUnsafeBufferPointer { lw in ln2b.withUnsafeBufferPointer { lb in
                                        Kernels.layerNorm(xr, weight: lw, bias: lb, eps: 1e-5, out: hb, rows: T, cols: D) } }
                                    w1.withUnsafeBufferPointer { w in b1.withUnsafeBufferPointer { b in
                                        Kernels.linear(x: UnsafeBufferPointer(hb), weight: w, bias: b, out: mb, rows: T, inFeatures: D, outFeatures: M) } }
                                    Kernels.gelu(UnsafeBufferPointer(mb), mb)
                                    w2.withUnsafeBufferPointer { w in b2.withUnsafeBufferPointer { b in
                                        Kernels.linear(x: UnsafeBufferPointer(mb), weight: w, bias: b, out: ob, rows: T, inFeatures: M, outFeatures: D) } }
                                    g2.withUnsafeBufferPointer { g in Kernels.addScaledRows(xb, UnsafeBufferPointer(ob), gamma: g, rows: T, cols: D) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// One Llama decoder layer over `tokens` new tokens after `past` cached ones (prefill when
    /// past = 0; a decode step when tokens = 1): RMSNorm, q/k/v, half-split RoPE, causal GQA
    /// attention over the cache, o_proj, residual, RMSNorm, SwiGLU MLP, residual.
    public static func llamaLayer(tokens T: Int, past: Int, hidden E: Int = 2048, heads H: Int = 32, kvHeads Hkv: Int = 8,
                                  intermediate I: Int = 8192, reps: Int = 5, name: String) -> Result {
        let hd = E / H, kvw = Hkv * hd, S = past + T
        let wq = values(E * E, seed: 21, scale: 0.02), wk = values(kvw * E, seed: 22, scale: 0.02)
        let wv = values(kvw * E, seed: 23, scale: 0.02), wo = values(E * E, seed: 24, scale: 0.02)
        let wg = values(I * E, seed: 25, scale: 0.02), wu = values(I * E, seed: 26, scale: 0.02)
        let wd = values(E * I, seed: 27, scale: 0.01)
        let n1 = values(E, seed: 28, scale: 1), n2 = values(E, seed: 29, scale: 1)
        let inv = Rope.llama3InvFreq(headDim: hd, theta: 500000, factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192)
        let table = Rope.halfSplitTable(invFreq: inv, positions: Array(past ..< S))
        var x = values(T * E, seed: 30, scale: 1)
        var kCache = values(S * kvw, seed: 31, scale: 1), vCache = values(S * kvw, seed: 32, scale: 1)
        var h = [Float](repeating: 0, count: T * E), q = h, attn = h, o = h
        var gate = [Float](repeating: 0, count: T * I), up = gate
        let flops = 2.0 * Double(T) * Double(2 * E * E + 2 * kvw * E + 3 * E * I)
            + 4.0 * Double(H * hd) * Double(T) * (Double(past) + Double(T + 1) / 2)
        return time(name, reps: reps, flops: flops) {
            x.withUnsafeMutableBufferPointer { xb in
                let xr = UnsafeBufferPointer(xb)
                h.withUnsafeMutableBufferPointer { hb in
                    let hr = UnsafeBufferPointer(hb)
                    q.withUnsafeMutableBufferPointer { qb in
                        kCache.withUnsafeMutableBufferPointer { kb in
                            vCache.withUnsafeMutableBufferPointer { vb in
                                attn.withUnsafeMutableBufferPointer { ab in
                                    o.withUnsafeMutableBufferPointer { ob in
                                        gate.withUnsafeMutableBufferPointer { gb in
                                            up.withUnsafeMutableBufferPointer { ub in
                                                n1.withUnsafeBufferPointer { Kernels.rmsNorm(xr, weight: $0, eps: 1e-5, out: hb, rows: T, cols: E) }
                                                wq.withUnsafeBufferPointer { Kernels.linear(x: hr, weight: $0, bias: nil, out: qb, rows: T, inFeatures: E, outFeatures: E) }
                                                // new k/v rows go straight into the cache after `past`
                                                let kNew = UnsafeMutableBufferPointer(rebasing: kb[past * kvw ..< S * kvw])
                                                let vNew = UnsafeMutableBufferPointer(rebasing: vb[past * kvw ..< S * kvw])
                                                wk.withUnsafeBufferPointer { Kernels.linear(x: hr, weight: $0, bias: nil, out: kNew, rows: T, inFeatures: E, outFeatures: kvw) }
                                                wv.withUnsafeBufferPointer { Kernels.linear(x: hr, weight: $0, bias: nil, out: vNew, rows: T, inFeatures: E, outFeatures: kvw) }
                                                Kernels.ropeHalfSplit(qb.baseAddress!, rowStride: E, rows: T, heads: H, table: table)
                                                Kernels.ropeHalfSplit(kNew.baseAddress!, rowStride: kvw, rows: T, heads: Hkv, table: table)
                                                Kernels.attention(q: qb.baseAddress!, k: kb.baseAddress!, v: vb.baseAddress!, out: ab.baseAddress!,
                                                                  layout: AttentionLayout(qRowStride: E, kRowStride: kvw, vRowStride: kvw, outRowStride: E),
                                                                  queries: T, keys: S, heads: H, kvHeads: Hkv, headDim: hd,
                                                                  scale: 1 / Float(hd).squareRoot(), causalOffset: past)
                                                wo.withUnsafeBufferPointer { Kernels.linear(x: UnsafeBufferPointer(ab), weight: $0, bias: nil, out: ob, rows: T, inFeatures: E, outFeatures: E) }
                                                Kernels.addInPlace(xb, UnsafeBufferPointer(ob))
                                                n2.withUnsafeBufferPointer { Kernels.rmsNorm(xr, weight: $0, eps: 1e-5, out: hb, rows: T, cols: E) }
                                                wg.withUnsafeBufferPointer { Kernels.linear(x: hr, weight: $0, bias: nil, out: gb, rows: T, inFeatures: E, outFeatures: I) }
                                                wu.withUnsafeBufferPointer { Kernels.linear(x: hr, weight: $0, bias: nil, out: ub, rows: T, inFeatures: E, outFeatures: I) }
                                                Kernels.siluMul(gate: gb, up: UnsafeBufferPointer(ub))
                                                wd.withUnsafeBufferPointer { Kernels.linear(x: UnsafeBufferPointer(gb), weight: $0, bias: nil, out: ob, rows: T, inFeatures: I, outFeatures: E) }
                                                Kernels.addInPlace(xb, UnsafeBufferPointer(ob))
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The baseline: one OpenBLAS sgemm of the ViT MLP's shape, `[T, K] · [N, K]ᵀ`. Block
    /// throughputs are reported relative to it, which cancels most of the machine's load.
    public static func gemmBaseline(m: Int = 1025, k: Int = 1024, n: Int = 4096, reps: Int = 5) -> Result {
        let a = values(m * k, seed: 51, scale: 1), b = values(n * k, seed: 52, scale: 1)
        var c = [Float](repeating: 0, count: m * n)
        return time("baseline sgemm \(m)×\(k) · \(n)×\(k)ᵀ", reps: reps, flops: 2.0 * Double(m * n * k)) {
            a.withUnsafeBufferPointer { ab in b.withUnsafeBufferPointer { bb in c.withUnsafeMutableBufferPointer { cb in
                Kernels.linear(x: ab, weight: bb, bias: nil, out: cb, rows: m, inFeatures: k, outFeatures: n)
            } } }
        }
    }

    /// GAR's preprocessing resizes of a 1024×770 RGB image: thumbnail 448×448 and a 4×4-tile canvas
    /// 1792×1792 (no FLOP count).
    public static func resize(path: ImageU8.BicubicPath, reps: Int = 5) -> Result {
        var px = [UInt8](repeating: 0, count: 1024 * 770 * 3)
        for i in 0 ..< px.count { px[i] = UInt8(truncatingIfNeeded: (i &* 2_654_435_761) >> 13) }
        let img = ImageU8(width: 1024, height: 770, channels: 3, pixels: px)
        let name = path == .torchvisionV1Float ? "float path (v1, GAR)" : "uint8 path (v2)"
        return time("bicubic-AA resize 1024×770 → 448² + 1792², \(name)", reps: reps, flops: 0) {
            _ = img.resizedBicubicAntialias(width: 448, height: 448, path: path)
            _ = img.resizedBicubicAntialias(width: 1792, height: 1792, path: path)
        }
    }

    /// Attention alone (the part we write ourselves; GEMMs are OpenBLAS).
    public static func attention(tokens T: Int, keys S: Int, heads H: Int, kvHeads Hkv: Int, headDim D: Int, causal: Bool,
                                 reps: Int = 5, name: String) -> Result {
        let q = values(T * H * D, seed: 41, scale: 1), k = values(S * Hkv * D, seed: 42, scale: 1), v = values(S * Hkv * D, seed: 43, scale: 1)
        var out = [Float](repeating: 0, count: T * H * D)
        let visible = causal ? Double(S - T) + Double(T + 1) / 2 : Double(S)
        let flops = 4.0 * Double(H * D) * Double(T) * visible
        return time(name, reps: reps, flops: flops) {
            q.withUnsafeBufferPointer { qb in k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
                out.withUnsafeMutableBufferPointer { ob in
                    Kernels.attention(q: qb.baseAddress!, k: kb.baseAddress!, v: vb.baseAddress!, out: ob.baseAddress!,
                                      layout: AttentionLayout(qRowStride: H * D, kRowStride: Hkv * D, vRowStride: Hkv * D, outRowStride: H * D),
                                      queries: T, keys: S, heads: H, kvHeads: Hkv, headDim: D, scale: 1 / Float(D).squareRoot(),
                                      causalOffset: causal ? S - T : nil)
                }
            } } }
        }
    }
}
