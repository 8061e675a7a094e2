// The bf16 GEMM backend (oneDNN matmul on weights packed at load; Tensors/Kernels/BF16Matmul.swift)
// against its naive twin, the seam (`LinearLayer` with `precision: .bf16`), and the faithfulness of
// the bf16 mode on the committed golden cases (f32 reference logits and greedy ids).
import CKernels
import Foundation
@testable import Models
import Tensors
import Testing

@Suite struct BF16BackendTests {
    /// Rounds to bf16 and back (round to nearest even, as torch).
    static func roundedToBF16(_ v: [Float]) -> [Float] {
        var bits = [UInt16](repeating: 0, count: v.count)
        v.withUnsafeBufferPointer { src in bits.withUnsafeMutableBufferPointer { Convert.f32ToBF16(src, $0) } }
        return bits.map { Float(bitPattern: UInt32($0) << 16) }
    }

    /// oneDNN's product equals the twin (bf16 operands, Double sums) up to f32 summation error:
    /// bf16·bf16 products are exact in f32, so only the f32 sums differ: C terms per product,
    /// 2C with split activations, C more for the weights' residue, plus the final additions:
    /// ≤ (3C + 2)·2⁻²⁴·Σ|terms|.
    @Test(arguments: [(1, 64, 70), (3, 5, 7), (17, 96, 129), (300, 160, 48)], [true, false])
    func matmulMatchesTwin(_ shape: (Int, Int, Int), split: Bool) {
        let (T, C, OC) = shape
        var r = TestRandom(UInt64(T * 1_000_000 + C * 1000 + OC))
        let w = r.floats(OC * C), x = r.floats(T * C)
        let m = w.withUnsafeBufferPointer { BF16Matrix.rounding(f32: $0, rows: OC, cols: C) }
        var got = [Float](repeating: .nan, count: T * OC), want = got
        x.withUnsafeBufferPointer { xb in got.withUnsafeMutableBufferPointer { m.multiply(xb.baseAddress!, rows: T, out: $0.baseAddress!, split: split) } }
        Reference.matmulBF16(x, rows: T, weight: w, outFeatures: OC, inFeatures: C, out: &want, split: split)
        let wr = Self.roundedToBF16(w)
        for t in 0 ..< T {
            for o in 0 ..< OC {
                var bound = 0.0
                for c in 0 ..< C { bound += abs(Double(x[t * C + c]) * Double(wr[o * C + c])) }
                let i = t * OC + o
                #expect(abs(Double(got[i]) - Double(want[i])) <= Double(3 * C + 2) * 0x1p-24 * 1.01 * bound + 1e-30,
                        "[\(t), \(o)] of \(shape), split \(split): \(got[i]) vs \(want[i])")
            }
        }
    }

    /// Split activations are what make the bf16 path faithful: against the exact f32 product of
    /// the same (bf16) weights, the split error is far below the single-rounding error.
    @Test func splitActivationsAreNearlyExact() {
        let T = 8, C = 256, OC = 64
        var r = TestRandom(11)
        let w = Self.roundedToBF16(r.floats(OC * C)), x = r.floats(T * C)
        let m = w.withUnsafeBufferPointer { BF16Matrix.rounding(f32: $0, rows: OC, cols: C) }
        var exact = [Float](repeating: 0, count: T * OC), split = exact, single = exact
        x.withUnsafeBufferPointer { xb in
            w.withUnsafeBufferPointer { wb in
                exact.withUnsafeMutableBufferPointer { Reference.linear(x: xb, weight: wb, bias: nil, out: $0, rows: T, inFeatures: C, outFeatures: OC) }
            }
        }
        x.withUnsafeBufferPointer { xb in
            split.withUnsafeMutableBufferPointer { m.multiply(xb.baseAddress!, rows: T, out: $0.baseAddress!, split: true) }
            single.withUnsafeMutableBufferPointer { m.multiply(xb.baseAddress!, rows: T, out: $0.baseAddress!, split: false) }
        }
        let (ds, s) = maxAbsDiff(split, exact), (d1, _) = maxAbsDiff(single, exact)
        #expect(ds <= 1e-4 * s, "split: \(ds) of \(s)")
        #expect(d1 > 1e-3 * s && ds < d1 / 50, "single rounding \(d1), split \(ds)")
    }

    /// The split conversion (C kernel) against its definition: hi = bf16(x) (torch rounding, as
    /// `Convert.f32ToBF16`), lo = bf16(x − hi), so |x − (hi + lo)| ≤ 2⁻¹⁷·|x| (plus subnormal slack).
    @Test func splitConversionMatchesDefinition() {
        var r = TestRandom(3)
        var x = r.floats(4096).enumerated().map { $0.element * Float(1 << ($0.offset % 24)) / 4096 }
        x += [0, -0.0, 1, -1, 3.14159265, 1e-30, -7.3e12, .greatestFiniteMagnitude]
        var hi = [UInt16](repeating: 0, count: x.count), lo = hi, want = hi
        gk_f32_to_bf16_split(x, &hi, &lo, x.count)
        x.withUnsafeBufferPointer { xb in want.withUnsafeMutableBufferPointer { Convert.f32ToBF16(xb, $0) } }
        #expect(hi == want)
        func f(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }
        for i in x.indices where x[i].isFinite && abs(x[i]) < 1e38 {
            let residue = x[i] - f(hi[i])
            var expectedLo = UInt16(0)
            withUnsafePointer(to: residue) { gk_f32_to_bf16($0, &expectedLo, 1) }
            #expect(lo[i] == expectedLo, "x = \(x[i])")
            #expect(abs(Double(x[i]) - Double(f(hi[i])) - Double(f(lo[i]))) <= 0x1p-17 * abs(Double(x[i])) + 1e-38, "x = \(x[i])")
        }
    }

    /// Packing bf16-stored weights keeps them exactly (no rounding): same product as packing
    /// their f32 widening.
    @Test func bf16StorageIsPackedExactly() {
        let T = 5, C = 48, OC = 33
        var r = TestRandom(7)
        let wf = Self.roundedToBF16(r.floats(OC * C)), x = r.floats(T * C)
        let bits = wf.map { UInt16($0.bitPattern >> 16) }
        let a = bits.withUnsafeBufferPointer { BF16Matrix(bf16: $0, rows: OC, cols: C) }
        let b = wf.withUnsafeBufferPointer { BF16Matrix.rounding(f32: $0, rows: OC, cols: C) }
        #expect(b.residue == nil)
        let notBF16 = r.floats(OC * C).withUnsafeBufferPointer { BF16Matrix.rounding(f32: $0, rows: OC, cols: C) }
        #expect(notBF16.residue != nil)
        var ya = [Float](repeating: 0, count: T * OC), yb = ya
        x.withUnsafeBufferPointer { xb in
            ya.withUnsafeMutableBufferPointer { a.multiply(xb.baseAddress!, rows: T, out: $0.baseAddress!) }
            yb.withUnsafeMutableBufferPointer { b.multiply(xb.baseAddress!, rows: T, out: $0.baseAddress!) }
        }
        #expect(ya == yb)
    }

    /// The seam: a bf16 LinearLayer is the bf16 product plus the bias, for both storage formats;
    /// an f32 LinearLayer keeps the exact sgemm path (its own tests in KernelTests).
    @Test(arguments: [1, 4, 40])
    func bf16LinearLayerIsProductPlusBias(_ rows: Int) {
        let C = 96, OC = 70
        var r = TestRandom(UInt64(100 + rows))
        let w = r.floats(OC * C), x = r.floats(rows * C), bias = r.floats(OC)
        let layer = LinearLayer(outFeatures: OC, inFeatures: C, weight: .f32(w), bias: bias, precision: .bf16)
        guard case .bf16Packed = layer.weight else { Issue.record("bf16 layer not packed: \(layer.weight.kernelName)"); return }
        var got = [Float](repeating: 0, count: rows * OC), want = got
        let none = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
        x.withUnsafeBufferPointer { xb in got.withUnsafeMutableBufferPointer { layer.apply(xb.baseAddress!, rows: rows, out: $0.baseAddress!, scratch: none) } }
        Reference.matmulBF16(x, rows: rows, weight: w, outFeatures: OC, inFeatures: C, out: &want)
        for t in 0 ..< rows { for o in 0 ..< OC { want[t * OC + o] += bias[o] } }
        let (d, s) = maxAbsDiff(got, want)
        #expect(d <= 1e-5 * s, "max |Δ| \(d) of \(s)")
        // bf16-stored weights give the same result as their f32 widening (no residue either way).
        let wr = Self.roundedToBF16(w)
        let stored = LinearLayer(outFeatures: OC, inFeatures: C, weight: .bf16(wr.map { UInt16($0.bitPattern >> 16) }), bias: bias, precision: .bf16)
        let widened = LinearLayer(outFeatures: OC, inFeatures: C, weight: .f32(wr), bias: bias, precision: .bf16)
        var fromStored = [Float](repeating: 0, count: rows * OC), fromWidened = fromStored
        x.withUnsafeBufferPointer { xb in
            fromStored.withUnsafeMutableBufferPointer { stored.apply(xb.baseAddress!, rows: rows, out: $0.baseAddress!, scratch: none) }
            fromWidened.withUnsafeMutableBufferPointer { widened.apply(xb.baseAddress!, rows: rows, out: $0.baseAddress!, scratch: none) }
        }
        if rows < LinearLayer.gemvRowLimit {
            // Decoding rows of bf16-stored weights run on the bf16 GEMV: f32 activations, exact
            // products (closer to the exact product than the split activations).
            var exact = [Float](repeating: 0, count: rows * OC)
            let bits = wr.map { UInt16($0.bitPattern >> 16) }
            for t in 0 ..< rows {
                x.withUnsafeBufferPointer { xb in
                    exact.withUnsafeMutableBufferPointer { Reference.gemvBF16(bits, rows: OC, cols: C, x: xb.baseAddress! + t * C, y: $0.baseAddress! + t * OC) }
                }
            }
            for t in 0 ..< rows { for o in 0 ..< OC { exact[t * OC + o] += bias[o] } }
            let (ds, ss) = maxAbsDiff(fromStored, exact), (dw, _) = maxAbsDiff(fromWidened, exact)
            #expect(ds <= 1e-6 * ss && ds <= dw, "GEMV max |Δ| \(ds) of \(ss); split oneDNN \(dw)")
        } else {
            #expect(fromStored == fromWidened)
        }
    }

    /// Every weight matrix of a bf16 model is packed (no f32 matmul left behind the seam), and an
    /// f32 model keeps the storage formats as stored.
    @Test func modelPacksEveryMatrix() throws {
        let bf = try Fixtures.model("gar-tiny", precision: .bf16)
        let f = try Fixtures.model("gar-tiny")
        var layers = [bf.maskEmbed, bf.encoder.patchEmbed, bf.projector.linear1, bf.projector.linear2, bf.decoder.head]
        for b in bf.encoder.blocks { layers += [b.qkv, b.proj, b.fc1, b.fc2] }
        for l in bf.decoder.layers { layers += [l.qkv, l.o, l.gateUp, l.down] }
        for l in layers {
            guard case .bf16Packed = l.weight else { Issue.record("not packed: \(l.weight.kernelName)"); continue }
        }
        #expect(bf.precision == .bf16 && f.precision == .f32)
        #expect(bf.kernels.contains("bf16, f32 accumulation") && !f.kernels.contains("bf16, f32 accumulation"), "\(bf.kernels) / \(f.kernels)")
        guard case .f32 = f.encoder.patchEmbed.weight else { Issue.record("f32 model: patch embedding repacked"); return }
    }
}

/// bf16 faithfulness on the golden cases (issue 12 item 6): the first greedy token is kept on every
/// case, and the first-step logits stay within a documented bound of the f32 reference.
///
/// Measured (tiny checkpoints, oneDNN brg:avx512_core_bf16; README "Precision faithfulness"):
/// max |Δ logit| / max |logit| = 1.4e-5 … 4.5e-5, and all 32 greedy ids identical on every case.
/// Bound: 2e-4 (4× the worst case seen; the f32 path's own bound is 2e-5). The bf16 path is this
/// close because activations are split into two bf16 halves and weights that are not bf16 keep
/// their residue (BF16Matmul.swift); with single-rounded activations the error was 1.4e-2 …
/// 3.8e-2 and case b lost its first token (the tiny checkpoints' ×3/×6 q/k/o/down scaling
/// amplifies rounding, and their top-1/top-2 gaps are as small as 2.1e-3 of max |logit|).
@Suite(.serialized) struct BF16FaithfulnessTests {
    static let logitBound = 2e-4

    @Test(arguments: GoldenParityTests.cases)
    func firstTokenAndLogits(_ caseName: String) throws {
        let m = try Faithfulness(caseName, precision: .bf16)
        // Issue 12 asks ≥ 5 of 8 leading tokens at full size; on the goldens all 32 were measured.
        #expect(m.prefix >= 8, "\(caseName): only \(m.prefix) leading greedy ids identical")
        #expect(m.tokenIDs.first == m.expectedIDs.first, "\(caseName): first token \(m.tokenIDs.first ?? -1) vs \(m.expectedIDs[0])")
        #expect(m.maxAbs <= Self.logitBound * m.scale, "\(caseName): max |Δ logit| \(m.maxAbs) > \(Self.logitBound) · \(m.scale)")
    }
}

/// A fast precision measured on one golden case: its first-step logits against the f32 golden's
/// (max |Δ| and max |logit|) and how many leading greedy ids it shares with the golden; printed
/// (README "Precision faithfulness").
struct Faithfulness {
    let maxAbs: Double, scale: Double
    let tokenIDs: [Int], expectedIDs: [Int]
    var prefix: Int { zip(tokenIDs, expectedIDs).prefix { $0 == $1 }.count }

    init(_ caseName: String, precision: Precision) throws {
        let g = try GoldenCase(caseName)
        let session = GARSession(model: try Fixtures.model(g.checkpoint, precision: precision))
        var options = RequestOptions()
        options.generation.maxNewTokens = g.maxNewTokens
        let request = try g.prepare(session, options: options)
        let recorder = ActivationRecorder(filter: { $0 == "logits.step0" })
        tokenIDs = try session.run(request, options: options, tap: recorder).tokenIDs
        expectedIDs = try g.ints("generated_ids")
        (maxAbs, scale) = maxAbsDiff(try #require(recorder["logits.step0"]), try g.floats("logits.step0"))
        print("\(precision.rawValue) faithfulness \(caseName): max rel first-step logit error \(String(format: "%.2e", maxAbs / scale)), "
              + "identical greedy prefix \(prefix)/\(expectedIDs.count)")
    }
}
