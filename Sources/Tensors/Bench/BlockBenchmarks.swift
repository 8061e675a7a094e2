// Micro-benchmarks of whole transformer blocks built from Tensors' kernels, with the shapes of
// GAR-1B (ViT-L block at 1025 tokens), attention alone, and the timing helper. The Llama decoder
// layer is timed on the model's own code: Models/Bench/DecoderLayerBench.swift.
// Random weights; buffers allocated once outside the timed loop, as a model would. Run through
// `gar bench ops`; Tests/Fixtures/generate/bench_torch_blocks.py times the same blocks in PyTorch.
import CKernels
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

    /// Times `reps` runs of `body` after `warmup` untimed ones.
    public static func time(_ name: String, reps: Int, flops: Double, warmup: Int = 1, _ body: () -> Void) -> Result {
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

    /// One decode-step weight product of GAR-1B's MLP (`[1, 2048] · [8192, 2048]ᵀ`) through the
    /// seam in `precision` — memory bound: `bytes` (the weights of one product) over the time is
    /// the read rate. The runs cycle through `copies` matrices of the same shape in distinct memory
    /// (16 × 32 MiB in bf16 by default: more than this machine's 260 MiB L3), so that the weights
    /// come from memory as in a real decode step, not from the cache.
    public static func decodeGEMV(precision: Precision, outFeatures n: Int = 8192, inFeatures k: Int = 2048,
                                  copies: Int = 16, reps: Int = 20) -> (result: Result, bytes: Int) {
        let x = values(k, seed: 62, scale: 1)
        var bits = values(n * k, seed: 61, scale: 0.05).map { UInt16($0.bitPattern >> 16) }   // the decoder's weights are bf16
        let layers = (0 ..< max(copies, 1)).map { c in
            bits[0] = UInt16(truncatingIfNeeded: c)   // a distinct copy each (arrays are copied on write)
            return LinearLayer(outFeatures: n, inFeatures: k, weight: .bf16(bits), precision: precision)
        }
        var y = [Float](repeating: 0, count: n)
        let none = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
        var next = 0
        let r = time("decode GEMV 1×\(k) · \(n)×\(k)ᵀ, \(precision.rawValue) (\(layers[0].bytes >> 20) MiB of weights, \(layers.count) copies cycled)",
                     reps: reps * layers.count, flops: 2.0 * Double(n * k), warmup: layers.count) {
            let layer = layers[next % layers.count]
            next += 1
            x.withUnsafeBufferPointer { xb in y.withUnsafeMutableBufferPointer { layer.apply(xb.baseAddress!, rows: 1, out: $0.baseAddress!, scratch: none) } }
        }
        return (r, layers[0].bytes)
    }

    /// The cost of one thread hand-off: a `parallelFor` over `Threading.count` items with an empty
    /// body (a decode step opens ~80 such regions: one per GEMV and attention call).
    public static func handOff(reps: Int = 2000) -> Result {
        let n = Threading.count
        return time("parallelFor hand-off, \(n) workers, empty body", reps: reps, flops: 0, warmup: 10) {
            parallelFor(n) { _ in }
        }
    }

    /// The machine's read bandwidth: a streaming f32 sum (CKernels `gk_stream_sum`, AVX-512 / AVX2 /
    /// portable) over `bytes` (512 MiB, far above the caches) on `threads` threads (each sums its
    /// contiguous part); returns GB/s (best of `reps`).
    public static func readBandwidth(threads: Int, bytes: Int = 512 << 20, reps: Int = 5) -> Double {
        let n = bytes / 4
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        defer { buffer.deallocate() }
        parallelFor(n, grain: 1 << 20) { r in
            for i in r { buffer[i] = Float(i & 1023) }
        }
        let base = buffer.baseAddress!
        let sums = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(threads, 1))
        defer { sums.deallocate() }
        let saved = Threading.count
        Threading.set(max(threads, 1))
        defer { Threading.set(saved) }
        var best = Double.infinity
        for _ in 0 ..< reps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let parts = sums.count
            parallelFor(parts) { r in
                for p in r { sums[p] = gk_stream_sum(base + p * n / parts, (p + 1) * n / parts - p * n / parts) }
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return Double(n * 4) / best / 1e9
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

    /// The attention kernels `attention` times: the exact f32 fused kernel (`Kernels.attention`,
    /// what every precision ran before the bf16 kernel), the fused bf16-product kernel
    /// (`Kernels.attentionBF16`, bf16/int8 prefill and vision, SAM 2 in bf16), and the previous
    /// oneDNN bf16 attention (SAM 2's before; non-causal, no GQA).
    public enum AttentionKernel: String, Sendable {
        case f32 = "f32 fused"
        case bf16 = "bf16 fused"
        case bf16OneDNN = "bf16 oneDNN (previous)"
    }

    /// Attention alone (the part we write ourselves; GEMMs are OpenBLAS). The name gets the kernel appended.
    public static func attention(tokens T: Int, keys S: Int, heads H: Int, kvHeads Hkv: Int, headDim D: Int, causal: Bool,
                                 kernel: AttentionKernel = .f32, reps: Int = 5, name: String) -> Result {
        precondition(kernel != .bf16OneDNN || (!causal && H == Hkv), "attention bench: the oneDNN kernel is non-causal without GQA")
        let q = values(T * H * D, seed: 41, scale: 1), k = values(S * Hkv * D, seed: 42, scale: 1), v = values(S * Hkv * D, seed: 43, scale: 1)
        var out = [Float](repeating: 0, count: T * H * D)
        let visible = causal ? Double(S - T) + Double(T + 1) / 2 : Double(S)
        let flops = 4.0 * Double(H * D) * Double(T) * visible
        let layout = AttentionLayout(qRowStride: H * D, kRowStride: Hkv * D, vRowStride: Hkv * D, outRowStride: H * D)
        let scale = 1 / Float(D).squareRoot()
        return time("\(name), \(kernel.rawValue)", reps: reps, flops: flops) {
            q.withUnsafeBufferPointer { qb in k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
                out.withUnsafeMutableBufferPointer { ob in
                    let (qp, kp, vp, op) = (qb.baseAddress!, kb.baseAddress!, vb.baseAddress!, ob.baseAddress!)
                    switch kernel {
                    case .f32:
                        Kernels.attention(q: qp, k: kp, v: vp, out: op, layout: layout, queries: T, keys: S, heads: H, kvHeads: Hkv,
                                          headDim: D, scale: scale, causalOffset: causal ? S - T : nil)
                    case .bf16:
                        Kernels.attentionBF16(q: qp, k: kp, v: vp, out: op, layout: layout, queries: T, keys: S, heads: H, kvHeads: Hkv,
                                              headDim: D, scale: scale, causalOffset: causal ? S - T : nil)
                    case .bf16OneDNN:
                        attentionBF16OneDNN(q: qp, k: kp, v: vp, out: op, layout: layout, queries: T, keys: S, heads: H, headDim: D, scale: scale)
                    }
                }
            } } }
        }
    }
}
