// The int8 precision (Tensors/Kernels/Int8Matmul.swift, CKernels/gemv_q8.c): the quantisers
// against their definition, the weight-only int8 GEMV (every code path) and oneDNN's int8 matmul
// against their naive twins, both against the exact f32 product within the quantisation bound, the
// seam (`LinearLayer` with `precision: .int8`), and the int8 mode's faithfulness on the golden cases.
import CKernels
import Foundation
@testable import Models
import Tensors
import Testing

@Suite(.serialized) struct Int8BackendTests {
    /// The C quantiser equals the Swift twin (max |v| / 127, round half to even) block by block,
    /// codes in [-127, 127]; an all-zero block gets scale 0 and codes 0.
    @Test(arguments: [(3, 100, 32), (2, 64, 64), (4, 33, 16)])
    func weightQuantiserMatchesDefinition(_ shape: (Int, Int, Int)) {
        let (rows, cols, block) = shape
        var r = TestRandom(UInt64(rows * 100 + cols))
        var w = r.floats(rows * cols)
        for c in 0 ..< min(block, cols) { w[c] = 0 }   // an all-zero first block
        let m = w.withUnsafeBufferPointer { Int8Matrix(quantizing: $0, rows: rows, cols: cols, block: block) }
        #expect(m.blocksPerRow == (cols + block - 1) / block)
        for row in 0 ..< rows {
            for b in 0 ..< m.blocksPerRow {
                let lo = row * cols + b * block, hi = row * cols + min(cols, (b + 1) * block)
                let (q, s) = Reference.quantizeS8(w[lo ..< hi])
                #expect(m.scales[row * m.blocksPerRow + b] == s, "row \(row) block \(b)")
                #expect((lo ..< hi).map { m.values[$0] } == q, "row \(row) block \(b)")
            }
        }
        #expect(m.scales[0] == 0 && (0 ..< min(block, cols)).allSatisfy { m.values[$0] == 0 })
    }

    /// bf16-stored weights quantise exactly as their f32 widening.
    @Test func bf16StorageQuantisesAsItsWidening() {
        var r = TestRandom(5)
        let bits = bf16Bits(r.floats(37 * 70)), wide = bits.map { Float(bitPattern: UInt32($0) << 16) }
        let a = bits.withUnsafeBufferPointer { Int8Matrix(quantizing: $0, rows: 37, cols: 70) }
        let b = wide.withUnsafeBufferPointer { Int8Matrix(quantizing: $0, rows: 37, cols: 70) }
        #expect((0 ..< 37 * 70).allSatisfy { a.values[$0] == b.values[$0] } && (0 ..< 37).allSatisfy { a.scales[$0] == b.scales[$0] })
    }

    /// Ties round half to even and the clamp holds in the vector body and in the tail alike (the
    /// quantiser takes AVX-512 where the CPU has it, 16 values per step, then a scalar tail): with
    /// max |x| = 127 the scale is 1, so x·(1/s) is x itself.
    @Test func quantiserRoundsTiesToEvenInBodyAndTail() {
        let ties: [Float] = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, -126.5, 3.5, 4.5, 0, -0.0, 63.5, -63.5, 7.25, 7.75]
        let x = [Float(127)] + ties + ties + Array(ties.prefix(5))   // 38 values: two vectors and a tail of 6
        var q = [Int8](repeating: 0, count: x.count)
        var s: Float = 0
        gk_quantize_row_s8(x, x.count, &q, &s, nil, nil, nil)
        let (want, wantS) = Reference.quantizeS8(x[...])
        #expect(s == 1 && wantS == 1)
        #expect(q == want, "\(zip(x, q).map { "\($0)→\($1)" })")
        #expect(Array(q[1 ..< 7]) == [0, 2, 2, 0, -2, -2])
    }

    /// The split activation quantiser: hi as the twin, lo = the twin's quantisation of the f32
    /// residue, and |x − (s_hi·hi + s_lo·lo)| ≤ s_lo / 2 (+ f32 slack).
    @Test func activationSplitMatchesDefinition() {
        var r = TestRandom(8)
        let x = r.floats(300).enumerated().map { $0.element * ($0.offset == 17 ? 40 : 1) }   // one outlier
        var hi = [Int8](repeating: 0, count: x.count), lo = hi, scratch = [Float](repeating: 0, count: x.count)
        var sHi: Float = 0, sLo: Float = 0
        gk_quantize_row_s8(x, x.count, &hi, &sHi, &lo, &sLo, &scratch)
        let (qh, sh) = Reference.quantizeS8(x[...])
        #expect(hi == qh && sHi == sh)
        let residue = zip(x, hi).map { $0 - sHi * Float($1) }
        let (ql, sl) = Reference.quantizeS8(residue[...])
        #expect(lo == ql && sLo == sl)
        #expect(sLo <= sHi / 2 / 127 * 1.001)
        for i in x.indices {
            let back = Double(sHi) * Double(hi[i]) + Double(sLo) * Double(lo[i])
            #expect(abs(back - Double(x[i])) <= Double(sLo) / 2 * 1.001 + 1e-6 * Double(sHi), "x[\(i)] = \(x[i])")
        }
    }

    /// Every GEMV code path (portable C, AVX-512 where the CPU has it) against the Double twin, per
    /// block of 32 weight columns, on awkward shapes: the kernel sums C products and nb scaled
    /// blocks in f32, so agreement to (C + nb + 2)·2⁻²⁴ of Σ|s·q·x|. (Per-channel weights take
    /// the int8 × int8 GEMV: DecodeKernelTests.)
    @Test(arguments: [(5, 33, 32), (17, 100, 32), (64, 2048, 32), (7, 4097, 32), (9, 48, 16)])
    func gemvMatchesTwin(_ shape: (Int, Int, Int)) {
        let (rows, cols, blockOrZero) = shape
        let block = blockOrZero == 0 ? cols : blockOrZero
        var r = TestRandom(UInt64(rows * 10_000 + cols + block))
        let w = r.floats(rows * cols), x = r.floats(cols)
        let m = w.withUnsafeBufferPointer { Int8Matrix(quantizing: $0, rows: rows, cols: cols, block: block) }
        var want = [Float](repeating: 0, count: rows)
        Reference.gemvQ8(m.values, scales: m.scales, block: block, rows: rows, cols: cols, x: x, y: &want)
        var bound = [Double](repeating: 0, count: rows)
        for i in 0 ..< rows {
            for c in 0 ..< cols { bound[i] += abs(Double(m.scales[i * m.blocksPerRow + c / block]) * Double(m.values[i * cols + c]) * Double(x[c])) }
        }
        let best = gk_set_simd_level(-1)
        defer { _ = gk_set_simd_level(-1) }
        for level in [GK_SIMD_BASE, GK_SIMD_AVX512] where Int32(level) <= best {
            _ = gk_set_simd_level(Int32(level))
            var got = [Float](repeating: .nan, count: rows)
            x.withUnsafeBufferPointer { xb in got.withUnsafeMutableBufferPointer { m.gemv(xb.baseAddress!, $0.baseAddress!) } }
            for i in 0 ..< rows {
                #expect(abs(Double(got[i]) - Double(want[i])) <= Double(cols + m.blocksPerRow + 2) * 0x1p-24 * bound[i] + 1e-30,
                        "level \(level) row \(i) of \(shape): \(got[i]) vs \(want[i])")
            }
        }
    }

    /// oneDNN's int8 matmul equals the twin (same quantised activations, integer products in
    /// Double): the s32 sums are exact, so only the f32 scaling differs: ≤ 8·2⁻²⁴ of
    /// Σ_c (|x_c| + s_hi)·|ŵ_c| (ŵ the dequantised weights).
    @Test(arguments: [(4, 64, 70), (5, 7, 3), (17, 96, 129), (300, 160, 48)], [true, false])
    func matmulMatchesTwin(_ shape: (Int, Int, Int), split: Bool) {
        let (T, C, OC) = shape
        var r = TestRandom(UInt64(T * 1_000_000 + C * 1000 + OC))
        let w = r.floats(OC * C), x = r.floats(T * C)
        let m = w.withUnsafeBufferPointer { Int8Matrix(quantizing: $0, rows: OC, cols: C) }
        var got = [Float](repeating: .nan, count: T * OC)
        x.withUnsafeBufferPointer { xb in got.withUnsafeMutableBufferPointer { m.multiply(xb.baseAddress!, rows: T, out: $0.baseAddress!, split: split) } }
        let want = Reference.matmulInt8(x, rows: T, weight: m, split: split)
        for t in 0 ..< T {
            let sHi = Double(x[t * C ..< (t + 1) * C].map { abs($0) }.max()!) / 127
            for o in 0 ..< OC {
                var bound = 0.0
                for c in 0 ..< C { bound += (abs(Double(x[t * C + c])) + sHi) * abs(Double(m.scales[o]) * Double(m.values[o * C + c])) }
                let i = t * OC + o
                #expect(abs(Double(got[i]) - Double(want[i])) <= 8 * 0x1p-24 * bound + 1e-30, "[\(t), \(o)] of \(shape), split \(split): \(got[i]) vs \(want[i])")
            }
        }
    }

    /// Against the exact f32 product, the int8 error stays within the quantisation bound
    /// Σ_c |x_c|·s_w/2 + |ŵ_c|·s_x/2 (s_x the last activation scale: s_lo split, s_hi single),
    /// and the split activations cut it well below single quantisation's.
    @Test func errorWithinQuantisationBound() {
        let T = 8, C = 256, OC = 64
        var r = TestRandom(11)
        let w = r.floats(OC * C), x = r.floats(T * C)
        let m = w.withUnsafeBufferPointer { Int8Matrix(quantizing: $0, rows: OC, cols: C) }
        var exact = [Float](repeating: 0, count: T * OC), split = exact, single = exact
        x.withUnsafeBufferPointer { xb in
            w.withUnsafeBufferPointer { wb in
                exact.withUnsafeMutableBufferPointer { Reference.linear(x: xb, weight: wb, bias: nil, out: $0, rows: T, inFeatures: C, outFeatures: OC) }
            }
            split.withUnsafeMutableBufferPointer { m.multiply(xb.baseAddress!, rows: T, out: $0.baseAddress!, split: true) }
            single.withUnsafeMutableBufferPointer { m.multiply(xb.baseAddress!, rows: T, out: $0.baseAddress!, split: false) }
        }
        var worstSplit = 0.0, worstSingle = 0.0
        for t in 0 ..< T {
            var hi = [Int8](repeating: 0, count: C), lo = hi, scratch = [Float](repeating: 0, count: C)
            var sHi: Float = 0, sLo: Float = 0
            gk_quantize_row_s8(Array(x[t * C ..< (t + 1) * C]), C, &hi, &sHi, &lo, &sLo, &scratch)
            for o in 0 ..< OC {
                var bSplit = 0.0, bSingle = 0.0
                for c in 0 ..< C {
                    let xw = abs(Double(x[t * C + c])) * Double(m.scales[o]) / 2, wq = abs(Double(m.scales[o]) * Double(m.values[o * C + c]))
                    bSplit += xw + wq * Double(sLo) / 2
                    bSingle += xw + wq * Double(sHi) / 2
                }
                let i = t * OC + o
                let dSplit = abs(Double(split[i]) - Double(exact[i])), dSingle = abs(Double(single[i]) - Double(exact[i]))
                #expect(dSplit <= bSplit * 1.001 + 1e-5, "split [\(t), \(o)]: \(dSplit) > \(bSplit)")
                #expect(dSingle <= bSingle * 1.001 + 1e-5, "single [\(t), \(o)]: \(dSingle) > \(bSingle)")
                worstSplit = max(worstSplit, dSplit)
                worstSingle = max(worstSingle, dSingle)
            }
        }
        #expect(worstSplit < worstSingle, "split \(worstSplit), single \(worstSingle)")
    }

    /// The seam: an int8 LinearLayer is the int8 GEMV (rows < gemvRowLimit) or the int8 matmul
    /// (more rows) plus the bias, for both storage formats.
    @Test(arguments: [1, 3, 4, 40])
    func int8LinearLayerIsProductPlusBias(_ rows: Int) {
        let C = 96, OC = 70
        var r = TestRandom(UInt64(200 + rows))
        let w = r.floats(OC * C), x = r.floats(rows * C), bias = r.floats(OC)
        let layer = LinearLayer(outFeatures: OC, inFeatures: C, weight: .f32(w), bias: bias, precision: .int8)
        guard case let .int8(m) = layer.weight else { Issue.record("int8 layer not quantised: \(layer.weight.kernelName)"); return }
        var got = [Float](repeating: 0, count: rows * OC)
        let none = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
        x.withUnsafeBufferPointer { xb in got.withUnsafeMutableBufferPointer { layer.apply(xb.baseAddress!, rows: rows, out: $0.baseAddress!, scratch: none) } }
        var want: [Float]
        if rows < LinearLayer.gemvRowLimit {
            want = []
            for t in 0 ..< rows {
                var y = [Float](repeating: 0, count: OC)
                Reference.gemvQ8x(m.values, rowScales: m.scales, rows: OC, cols: C, x: Array(x[t * C ..< (t + 1) * C]), y: &y)
                want += y
            }
        } else {
            want = Reference.matmulInt8(x, rows: rows, weight: m)
        }
        for t in 0 ..< rows { for o in 0 ..< OC { want[t * OC + o] += bias[o] } }
        let (d, s) = maxAbsDiff(got, want)
        #expect(d <= 1e-5 * s, "max |Δ| \(d) of \(s)")
        #expect(layer.weight.kernelName.contains("int8") && layer.bytes == OC * C + 4 * OC + 4 * OC)
    }

    /// Every weight matrix of an int8 model is quantised, and --verbose's kernel line says so.
    @Test func modelQuantisesEveryMatrix() throws {
        let q = try Fixtures.model("gar-tiny", precision: .int8)
        var layers = [q.maskEmbed, q.encoder.patchEmbed, q.projector.linear1, q.projector.linear2, q.decoder.head]
        for b in q.encoder.blocks { layers += [b.qkv, b.proj, b.fc1, b.fc2] }
        for l in q.decoder.layers { layers += [l.qkv, l.o, l.gateUp, l.down] }
        for l in layers {
            guard case .int8 = l.weight else { Issue.record("not int8: \(l.weight.kernelName)"); continue }
        }
        #expect(q.precision == .int8 && q.kernels.contains("int8"), "\(q.kernels)")
    }
}

/// int8 faithfulness on the golden cases (issue 12 item 6), measured and bounded honestly; the
/// numbers are printed (README "Precision faithfulness").
///
/// Measured (tiny checkpoints, oneDNN brg:avx512_core_vnni, 2026-12-06): max |Δ logit| / max |logit|
/// = 4.7e-2 … 1.03e-1; identical greedy prefix 0, 14, 7, 4, 7, 0 of 32 (cases a–f); with the bf16 KV
/// cache (22:00): 5.4e-2 … 1.06e-1, prefixes 0, 14, 7, 4, 6, 0 — the first token
/// is lost on cases a and f, so int8 is NOT faithful on these cases and is never the default.
/// The error is the weights' quantisation: the same weights quantised per channel and multiplied in
/// f32 (no activation quantisation) gave the same numbers to 3 digits; per block of 32 (Q8_0-like)
/// was not better (4.7e-2 → 1.4e-1 on case e; prefixes 0, 2, 1, 4, 7, 0). Bound: 0.2 (2× the worst).
@Suite(.serialized) struct Int8FaithfulnessTests {
    static let logitBound = 0.2

    @Test(arguments: GoldenParityTests.cases)
    func firstTokenAndLogits(_ caseName: String) throws {
        let m = try Faithfulness(caseName, precision: .int8)
        #expect(m.maxAbs <= Self.logitBound * m.scale, "\(caseName): max |Δ logit| \(m.maxAbs) > \(Self.logitBound) · \(m.scale)")
        #expect(m.maxAbs > 1e-3 * m.scale, "\(caseName): int8 as close as the f32 path — not quantised?")
    }
}
