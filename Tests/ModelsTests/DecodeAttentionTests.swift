// The decode attention kernel (`Kernels.attentionDecode`, CKernels `gk_attention_decode`) and the
// bf16 KV cache of the int8 mode: the kernel against the Double twin `Reference.attention` on f32
// and on bf16 rows (widened exactly), every SIMD level; a decoder's decode steps against the same
// positions run as one prefill (the fused attention path), with either cache; the cache policy.
import CKernels
import Foundation
@testable import Models
import Tensors
import Testing

@Suite(.serialized) struct DecodeAttentionTests {
    /// (keys S, heads H, kv heads Hkv, head dim D): one key, block edges (63/64/65 keys), GAR-1B's
    /// group of 4 heads with D = 64, odd groups (the single-head tail of the P·V pass), head dims
    /// that are not a multiple of the vector width (the scalar tails).
    static let shapes = [(1, 1, 1, 16), (63, 4, 1, 64), (64, 32, 8, 64), (65, 3, 3, 20), (300, 6, 2, 48), (129, 2, 1, 8),
                         (1000, 8, 2, 64)]

    static var levels: [Int32] {
        let best = gk_set_simd_level(-1)
        return [GK_SIMD_BASE, GK_SIMD_AVX2, GK_SIMD_AVX512].map { Int32($0) }.filter { $0 <= best }
    }

    @Test(arguments: shapes, [KVStorage.f32, .bf16])
    func kernelMatchesTwin(_ shape: (Int, Int, Int, Int), storage: KVStorage) {
        let (S, H, Hkv, D) = shape
        let stride = Hkv * D + 3   // rows padded: the kernel must use the row stride
        var r = TestRandom(UInt64(S * 31 + H * 7 + D) + (storage == .bf16 ? 1 : 0))
        let q = r.floats(H * D).map { $0 * 2 }
        var k = r.floats(S * stride), v = r.floats(S * stride)
        // bf16 rows: what the kernel reads; the twin reads their exact widening.
        let kb = bf16Bits(k), vb = bf16Bits(v)
        if storage == .bf16 {
            k = kb.map { Float(bitPattern: UInt32($0) << 16) }
            v = vb.map { Float(bitPattern: UInt32($0) << 16) }
        }
        let scale = 1 / Float(D).squareRoot()
        var want = [Float](repeating: 0, count: H * D)
        let layout = AttentionLayout(qRowStride: H * D, kRowStride: stride, vRowStride: stride, outRowStride: H * D)
        Reference.attention(q: q, k: k, v: v, out: &want, layout: layout, queries: 1, keys: S, heads: H, kvHeads: Hkv, headDim: D,
                            scale: scale, causalOffset: S - 1)
        var scratch = [Float](repeating: .nan, count: Kernels.attentionDecodeScratch(keys: S, heads: H, kvHeads: Hkv, headDim: D))
        defer { _ = gk_set_simd_level(-1) }
        for level in Self.levels {
            _ = gk_set_simd_level(level)
            var got = [Float](repeating: .nan, count: H * D)
            func run(_ kp: UnsafeRawPointer, _ vp: UnsafeRawPointer) {
                Kernels.attentionDecode(q: q, k: kp, v: vp, storage: storage, rowStride: stride, out: &got, keys: S, heads: H,
                                        kvHeads: Hkv, headDim: D, scale: scale, scratch: &scratch)
            }
            if storage == .f32 { run(k, v) } else { run(kb, vb) }
            let err = zip(got, want).map { abs(Double($0) - Double($1)) }.max()!
            #expect(err <= 2e-6, "level \(level) \(shape) \(storage): max error \(err)")
        }
    }

    /// Decode steps of a decoder (one row at a time: `attentionDecode`) against the same positions
    /// run as one prefill (the fused attention over `f32Rows`), for both caches: the logits of
    /// every step agree to the summation order. With the bf16 cache both paths read the same
    /// rounded rows, so the cache's rounding cancels out of this comparison.
    @Test(arguments: [KVStorage.f32, .bf16])
    func decodeStepsEqualPrefill(_ storage: KVStorage) throws {
        let model = try GARModel.load(directory: Fixtures.path("gar-tiny"), precision: .f32, kvStorage: storage)
        #expect(model.decoder.kvStorage == storage && model.kernels.contains("KV cache \(storage.rawValue)"))
        var r = TestRandom(5)
        let V = model.spec.text.vocabSize, L = 40, steps = 12
        let ids = (0 ..< L + steps).map { _ in r.int(V) }
        let state = model.makeDecoderState(capacity: L + steps)
        var stepLogits = [model.forward(model.embed(Array(ids[..<L])), rows: L, state: state)]
        for t in L ..< L + steps - 1 { stepLogits.append(model.forward(model.embed([ids[t]]), rows: 1, state: state)) }
        for (i, got) in stepLogits.enumerated() {
            let n = L + i
            let want = model.forward(model.embed(Array(ids[..<n])), rows: n, state: model.makeDecoderState(capacity: n))
            let (d, s) = maxAbsDiff(got, want)
            #expect(d <= 2e-5 * s, "\(storage) step \(i): logits differ by \(d) of \(s)")
        }
    }

    /// The bf16 cache rounds: its logits differ from the f32 cache's, by about bf16's precision.
    @Test func bf16CacheRoundsKeysAndValues() throws {
        let f32 = try Fixtures.model("gar-tiny")
        let bf16 = try GARModel.load(directory: Fixtures.path("gar-tiny"), precision: .f32, kvStorage: .bf16)
        var r = TestRandom(9)
        let ids = (0 ..< 48).map { _ in r.int(f32.spec.text.vocabSize) }
        let a = f32.forward(f32.embed(ids), rows: ids.count, state: f32.makeDecoderState(capacity: ids.count))
        let b = bf16.forward(bf16.embed(ids), rows: ids.count, state: bf16.makeDecoderState(capacity: ids.count))
        let (d, s) = maxAbsDiff(a, b)
        #expect(d > 1e-6 * s && d < 5e-2 * s, "bf16 cache vs f32 cache: \(d) of \(s)")
    }

    /// Which cache each precision uses, and what it holds: f32 for f32 and bf16 (faithfulness),
    /// bf16 for int8 — half the bytes.
    @Test func cachePolicyAndBytes() throws {
        #expect(KVStorage.default(for: .f32) == .f32)
        #expect(KVStorage.default(for: .bf16) == .f32)
        #expect(KVStorage.default(for: .int8) == .bf16)
        let f32 = KVCache(storage: .f32, layers: 3, capacity: 100, width: 64)
        let bf16 = KVCache(storage: .bf16, layers: 3, capacity: 100, width: 64)
        #expect(f32.bytes == 2 * 3 * 100 * 64 * 4 && bf16.bytes == f32.bytes / 2)
        // Rows written round to nearest even; f32Rows widens them; copy keeps them.
        var r = TestRandom(3)
        let k = r.floats(5 * 64), v = r.floats(5 * 64)
        bf16.write(layer: 1, first: 2, rows: 5, k: k, v: v, stride: 64)
        let wide = bf16.f32Rows(layer: 1, count: 7)
        let rounded = bf16Bits(k).map { Float(bitPattern: UInt32($0) << 16) }
        #expect(Array(UnsafeBufferPointer(start: wide.keys + 2 * 64, count: 5 * 64)) == rounded)
        let other = KVCache(storage: .bf16, layers: 3, capacity: 50, width: 64)
        other.copy(from: bf16, rows: 7)
        let copied = other.f32Rows(layer: 1, count: 7)
        #expect(Array(UnsafeBufferPointer(start: copied.values + 2 * 64, count: 5 * 64)) == bf16Bits(v).map { Float(bitPattern: UInt32($0) << 16) })
    }

    /// The int8 mode's bf16 cache with prefix reuse: questions equal their runs alone.
    @Test func int8QuestionsEqualTheirRunsAlone() throws {
        let model = try Fixtures.model("gar-tiny", precision: .int8)
        #expect(model.decoder.kvStorage == .bf16)
        try PrefixReuseTests.check(model, Array(try PrefixReuseTests.imageAsks(model).prefix(3)), tolerance: 1e-4)
    }
}
