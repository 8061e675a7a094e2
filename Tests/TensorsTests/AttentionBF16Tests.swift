// The fused bf16-product attention (`Kernels.attentionBF16`, CKernels gk_attention_bf16_block) at
// every SIMD level (the products as f32 FMAs on AVX-512, AVX2 and portable C; vdpbf16ps opt-in):
// against its naive twin with the same roundings (tight: only f32 summation order differs, so only
// a probability sitting on a bf16 rounding boundary can move by one bf16 step), and against the
// f32 attention (the error of bf16 operands), on odd sizes — T and S not multiples of the row or
// key tiles, causal offsets (KV-cache lengths), GQA ratios 1 and 4, head dims 16 (padded), 64, 96,
// 256, several L2 key blocks — plus row-split invariance.
import CKernels
import Tensors
import Testing

extension VectorMathTests {
    typealias BF16Case = (T: Int, S: Int, H: Int, Hkv: Int, D: Int, offset: Int?)

    static func attentionBF16(_ q: [Float], _ k: [Float], _ v: [Float], _ c: BF16Case, queries T: Int? = nil, keys S: Int? = nil,
                              offset: Int?? = nil, twin: Bool = false) -> [Float] {
        let T = T ?? c.T, S = S ?? c.S, offset = offset ?? c.offset
        // Strided rows: q and out with padding columns, k and v interleaved in one buffer.
        let W = c.H * c.D, Wkv = c.Hkv * c.D
        let layout = AttentionLayout(qRowStride: W + 3, kRowStride: 2 * Wkv, vRowStride: 2 * Wkv, outRowStride: W + 5)
        var out = [Float](repeating: -7, count: T * layout.outRowStride)
        let scale = 1 / Float(c.D).squareRoot()
        var qs = [Float](repeating: 0, count: T * layout.qRowStride), kv = [Float](repeating: 0, count: S * 2 * Wkv)
        for t in 0 ..< T { for j in 0 ..< W { qs[t * layout.qRowStride + j] = q[t * W + j] } }
        for s in 0 ..< S { for j in 0 ..< Wkv { kv[s * 2 * Wkv + j] = k[s * Wkv + j]; kv[s * 2 * Wkv + Wkv + j] = v[s * Wkv + j] } }
        qs.withUnsafeBufferPointer { qb in kv.withUnsafeBufferPointer { kvb in
            out.withUnsafeMutableBufferPointer { ob in
                let k = kvb.baseAddress!, v = kvb.baseAddress! + Wkv
                if twin {
                    Reference.attentionBF16(q: qb.baseAddress!, k: k, v: v, out: ob.baseAddress!, layout: layout, queries: T, keys: S,
                                            heads: c.H, kvHeads: c.Hkv, headDim: c.D, scale: scale, causalOffset: offset)
                } else {
                    Kernels.attentionBF16(q: qb.baseAddress!, k: k, v: v, out: ob.baseAddress!, layout: layout, queries: T, keys: S,
                                          heads: c.H, kvHeads: c.Hkv, headDim: c.D, scale: scale, causalOffset: offset)
                }
            }
        } }
        // Padding columns untouched; the result compacted to [T, H·D].
        for t in 0 ..< T { for j in W ..< layout.outRowStride { precondition(out[t * layout.outRowStride + j] == -7, "padding written") } }
        return (0 ..< T).flatMap { t in out[t * layout.outRowStride ..< t * layout.outRowStride + W] }
    }

    static let bf16Cases: [BF16Case] = [
        (T: 37, S: 37, H: 2, Hkv: 2, D: 64, offset: nil),     // one partial tile of rows and keys
        (T: 70, S: 133, H: 4, Hkv: 1, D: 64, offset: 63),     // causal after a cache, GQA 4
        (T: 130, S: 200, H: 2, Hkv: 2, D: 256, offset: nil),  // SAM 2's memory attention head dim
        (T: 21, S: 1100, H: 2, Hkv: 1, D: 256, offset: 1079), // causal over three L2 key blocks, GQA 2
        (T: 45, S: 77, H: 3, Hkv: 3, D: 16, offset: 32),      // head dim padded to 32
        (T: 19, S: 150, H: 2, Hkv: 2, D: 96, offset: nil),    // Hiera's global blocks' head dim
    ]

    @Test(arguments: levels) func bf16AttentionMatchesTwinAndF32(level: Int32) {
        var rng = SeededRandom(seed: UInt64(level) + 1234)
        for c in Self.bf16Cases {
            let q = rng.normals(c.T * c.H * c.D), k = rng.normals(c.S * c.Hkv * c.D), v = rng.normals(c.S * c.Hkv * c.D)
            let got = atLevel(level) { Self.attentionBF16(q, k, v, c) }
            let twin = atLevel(level) { Self.attentionBF16(q, k, v, c, twin: true) }
            let exact = Self.attention(q, k, v, queries: c.T, keys: c.S, heads: c.H, kvHeads: c.Hkv, headDim: c.D,
                                       causalOffset: c.offset, twin: true)
            let n = Float(got.count)
            let twinMax = maxAbsDiff(got, twin), twinMean = zip(got, twin).map { abs($0 - $1) }.reduce(0, +) / n
            let f32Max = maxAbsDiff(got, exact), f32Mean = zip(got, exact).map { abs($0 - $1) }.reduce(0, +) / n
            let label = "level \(level) \(c)"
            // Twin: f32 summation order only; a rare probability on a rounding boundary moves one bf16 step.
            #expect(twinMax <= 2e-3 && twinMean <= 2e-6, "\(label): vs twin max \(twinMax) mean \(twinMean)")
            // f32 attention: bf16 operands (2⁻⁹ relative each) on outputs of size ~1.
            #expect(f32Max <= 2e-2 && f32Mean <= 2e-3, "\(label): vs f32 max \(f32Max) mean \(f32Mean)")
            #expect(f32Max > 0, "\(label): equals f32 attention exactly: bf16 was not used")
        }
    }

    /// The vdpbf16ps path (opt-in, `gk_attention_bf16_set_native`) on CPUs with AVX512_BF16.
    @Test func bf16AttentionNativeMatchesTwin() {
        guard gk_attention_bf16_set_native(1) == 1 else { return }
        defer { gk_attention_bf16_set_native(0) }
        #expect(String(cString: gk_attention_bf16_isa()).contains("vdpbf16ps"))
        var rng = SeededRandom(seed: 4321)
        for c in Self.bf16Cases {
            let q = rng.normals(c.T * c.H * c.D), k = rng.normals(c.S * c.Hkv * c.D), v = rng.normals(c.S * c.Hkv * c.D)
            let got = Self.attentionBF16(q, k, v, c), twin = Self.attentionBF16(q, k, v, c, twin: true)
            let twinMax = maxAbsDiff(got, twin), twinMean = zip(got, twin).map { abs($0 - $1) }.reduce(0, +) / Float(got.count)
            #expect(twinMax <= 2e-3 && twinMean <= 2e-6, "native \(c): vs twin max \(twinMax) mean \(twinMean)")
        }
    }

    /// A causal prompt run in two calls (the cache holding the first call's rows) gives the same
    /// bits as one call: a row's result does not depend on the rows run with it.
    @Test(arguments: levels) func bf16AttentionRowsSplitBitExact(level: Int32) {
        var rng = SeededRandom(seed: 99)
        let c: BF16Case = (T: 150, S: 170, H: 4, Hkv: 2, D: 64, offset: 20)
        let q = rng.normals(c.T * c.H * c.D), k = rng.normals(c.S * c.Hkv * c.D), v = rng.normals(c.S * c.Hkv * c.D)
        let first = 53, W = c.H * c.D
        let (whole, a, b) = atLevel(level) {
            (Self.attentionBF16(q, k, v, c),
             Self.attentionBF16(Array(q.prefix(first * W)), k, v, c, queries: first, keys: 20 + first),
             Self.attentionBF16(Array(q.suffix((c.T - first) * W)), k, v, c, queries: c.T - first, offset: 20 + first))
        }
        #expect(a + b == whole, "level \(level): rows split \(first) + \(c.T - first) differ")
    }
}
