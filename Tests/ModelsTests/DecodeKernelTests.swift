// The fast precisions' decode kernels (issue 12 point 4) against their naive twins: the bf16 GEMV of
// the bf16 mode (`BF16Matrix.gemv`), the int8 × int8 GEMV of the int8 mode (`gk_quantize_x_q8` +
// `gk_gemv_q8x` through `Int8Matrix.gemv`: portable C and VNNI), the bandwidth probe's streaming
// sum, and the decode profile of `gar bench model`.
import CKernels
import Foundation
@testable import Models
import Tensors
import Testing

@Suite(.serialized) struct DecodeKernelTests {
    /// Shapes with rows not a multiple of 4 (the scalar rows), columns not a multiple of 32 or 64
    /// (the tails and the portable path), and the decoder's own widths.
    static let shapes = [(1, 1), (3, 7), (4, 32), (5, 33), (9, 64), (17, 100), (64, 2048), (13, 4097), (40, 8192)]

    /// The SIMD levels this CPU can run.
    static var levels: [Int32] {
        let best = gk_set_simd_level(-1)
        return [GK_SIMD_BASE, GK_SIMD_AVX2, GK_SIMD_AVX512].map { Int32($0) }.filter { $0 <= best }
    }

    /// `BF16Matrix.gemv` (the bf16 mode's decode product, every level) against the Double twin:
    /// exact products, f32 sums, so within (C + 4)·2⁻²⁴ of Σ|w·x|.
    @Test(arguments: shapes)
    func bf16PlainGemvMatchesTwin(_ shape: (Int, Int)) {
        let (rows, cols) = shape
        var r = TestRandom(UInt64(rows * 7919 + cols))
        let w = bf16Bits(r.floats(rows * cols)), x = r.floats(cols)
        let m = w.withUnsafeBufferPointer { BF16Matrix(bf16: $0, rows: rows, cols: cols, plain: true) }
        var want = [Float](repeating: 0, count: rows)
        Reference.gemvBF16(w, rows: rows, cols: cols, x: x, y: &want)
        var bound = [Double](repeating: 0, count: rows)
        for i in 0 ..< rows { for c in 0 ..< cols { bound[i] += abs(Double(Float(bitPattern: UInt32(w[i * cols + c]) << 16)) * Double(x[c])) } }
        defer { _ = gk_set_simd_level(-1) }
        for level in Self.levels {
            _ = gk_set_simd_level(level)
            var got = [Float](repeating: .nan, count: rows)
            x.withUnsafeBufferPointer { xb in got.withUnsafeMutableBufferPointer { m.gemv(xb.baseAddress!, out: $0.baseAddress!) } }
            for i in 0 ..< rows {
                #expect(abs(Double(got[i]) - Double(want[i])) <= Double(cols + 4) * 0x1p-24 * bound[i] + 1e-30,
                        "level \(level) row \(i) of \(shape): \(got[i]) vs \(want[i])")
            }
        }
    }

    /// The activation quantiser is the per-block twin: blocks of 32 columns (the last one shorter),
    /// each quantised by `Reference.quantizeS8`.
    @Test(arguments: [1, 31, 32, 33, 100, 2048])
    func activationBlocksMatchDefinition(_ cols: Int) {
        var r = TestRandom(UInt64(cols) + 17)
        var x = r.floats(cols)
        if cols > 40 { for c in 32 ..< 40 { x[c] = 0 } }   // a partly zero block
        var q = [Int8](repeating: 99, count: cols), s = [Float](repeating: .nan, count: (cols + 31) / 32)
        gk_quantize_x_q8(x, cols, &q, &s)
        for b in 0 ..< s.count {
            let lo = b * 32, hi = min(cols, lo + 32)
            let (wantQ, wantS) = Reference.quantizeS8(x[lo ..< hi])
            #expect(s[b] == wantS && Array(q[lo ..< hi]) == wantQ, "block \(b) of \(cols)")
        }
    }

    /// `Int8Matrix.gemv` with per-row scales (the model's int8 matrices) on every level against the
    /// Double twin: integer block sums are exact, so only the f32 scaling and summation differ.
    /// VNNI adds 128·Σxq per block and removes it once, so the bound is taken over (|q| + 128)·|xq|:
    /// (C/16 + nb + 20)·2⁻²⁴ of Σ_b s_r·s_b·Σ_c (|q| + 128)·|xq|.
    @Test(arguments: shapes)
    func int8GemvMatchesTwin(_ shape: (Int, Int)) {
        let (rows, cols) = shape
        var r = TestRandom(UInt64(rows * 104_729 + cols))
        let w = r.floats(rows * cols), x = r.floats(cols)
        let m = w.withUnsafeBufferPointer { Int8Matrix(quantizing: $0, rows: rows, cols: cols) }
        var want = [Float](repeating: 0, count: rows)
        Reference.gemvQ8x(m.values, rowScales: m.scales, rows: rows, cols: cols, x: x, y: &want)
        let blocks = stride(from: 0, to: cols, by: 32).map { Reference.quantizeS8(x[$0 ..< min(cols, $0 + 32)]) }
        var bound = [Double](repeating: 0, count: rows)
        for i in 0 ..< rows {
            for c in 0 ..< cols {
                let b = blocks[c / 32]
                bound[i] += Double(m.scales[i]) * Double(b.scale) * (abs(Double(m.values[i * cols + c])) + 128) * abs(Double(b.q[c % 32]))
            }
        }
        let nb = blocks.count
        defer { _ = gk_set_simd_level(-1) }
        for level in Self.levels {
            _ = gk_set_simd_level(level)
            var got = [Float](repeating: .nan, count: rows)
            x.withUnsafeBufferPointer { xb in got.withUnsafeMutableBufferPointer { m.gemv(xb.baseAddress!, $0.baseAddress!) } }
            for i in 0 ..< rows {
                #expect(abs(Double(got[i]) - Double(want[i])) <= Double(cols / 16 + nb + 20) * 0x1p-24 * bound[i] + 1e-30,
                        "level \(level) row \(i) of \(shape): \(got[i]) vs \(want[i])")
            }
        }
    }

    /// Against the exact f32 product (unquantised weights and activations), the int8 × int8 GEMV
    /// stays within the quantisation bound Σ_c |x_c|·s_w/2 + |ŵ_c|·s_b/2 (+ f32 slack).
    @Test func int8GemvWithinQuantisationBound() {
        let rows = 48, cols = 2048
        var r = TestRandom(99)
        let w = r.floats(rows * cols), x = r.floats(cols).enumerated().map { $0.element * ($0.offset % 97 == 0 ? 20 : 1) }
        let m = w.withUnsafeBufferPointer { Int8Matrix(quantizing: $0, rows: rows, cols: cols) }
        var got = [Float](repeating: .nan, count: rows)
        x.withUnsafeBufferPointer { xb in got.withUnsafeMutableBufferPointer { m.gemv(xb.baseAddress!, $0.baseAddress!) } }
        let xs = stride(from: 0, to: cols, by: 32).map { Reference.quantizeS8(x[$0 ..< min(cols, $0 + 32)]).scale }
        for i in 0 ..< rows {
            var exact = 0.0, bound = 0.0, mag = 0.0
            for c in 0 ..< cols {
                let wc = Double(w[i * cols + c]), deq = Double(m.scales[i]) * Double(m.values[i * cols + c])
                exact += wc * Double(x[c])
                bound += abs(Double(x[c])) * Double(m.scales[i]) / 2 + abs(deq) * Double(xs[c / 32]) / 2
                mag += abs(wc * Double(x[c]))
            }
            #expect(abs(Double(got[i]) - exact) <= bound * 1.0001 + 1e-5 * mag, "row \(i): \(got[i]) vs \(exact), bound \(bound)")
        }
    }

    /// The bandwidth probe's sum equals the Double sum to f32 rounding on every level.
    @Test func streamSumIsTheSum() {
        var r = TestRandom(3)
        let x = r.floats(10_007).map { abs($0) }
        let want = x.reduce(0.0) { $0 + Double($1) }
        defer { _ = gk_set_simd_level(-1) }
        for level in Self.levels {
            _ = gk_set_simd_level(level)
            let got = x.withUnsafeBufferPointer { gk_stream_sum($0.baseAddress!, $0.count) }
            #expect(abs(Double(got) - want) <= 1e-5 * want, "level \(level): \(got) vs \(want)")
        }
    }
}

/// The decode profile of `gar bench model`: one-row steps only, every stage timed, the bytes of
/// every weight matrix and of the KV cache counted once per step, and the logits unchanged.
@Suite(.serialized) struct DecodeProfileTests {
    @Test func profileCountsEveryStageOfDecodeSteps() throws {
        let model = try Fixtures.model("gar-tiny", precision: .bf16)
        let d = model.decoder
        func run(_ profile: DecodeProfile?) -> [Float] {
            let state = model.makeDecoderState(capacity: 8)
            _ = model.forward(model.embed([1, 2, 3]), rows: 3, state: state)   // a prefill: not profiled
            state.profile = profile
            _ = model.forward(model.embed([4]), rows: 1, state: state)
            return model.forward(model.embed([5]), rows: 1, state: state)
        }
        let profile = DecodeProfile()
        let profiled = run(profile), plain = run(nil)
        #expect(profiled == plain)
        #expect(profile.steps == 2)
        let sum = { (f: (LlamaDecoder.Layer) -> Int) in Double(2 * d.layers.map(f).reduce(0, +)) }
        #expect(profile.bytes(.qkv) == sum { $0.qkv.weight.bytes } && profile.bytes(.o) == sum { $0.o.weight.bytes })
        #expect(profile.bytes(.gateUp) == sum { $0.gateUp.weight.bytes } && profile.bytes(.down) == sum { $0.down.weight.bytes })
        #expect(profile.bytes(.head) == Double(2 * d.head.weight.bytes))
        // Keys and values of 4 then 5 positions, f32, every layer.
        #expect(profile.bytes(.attention) == Double(d.layers.count * 2 * (4 + 5) * d.kvWidth * 4))
        for stage in DecodeProfile.Stage.allCases {
            #expect(profile.seconds(stage) > 0, "\(stage.rawValue) not timed")
        }
    }
}
