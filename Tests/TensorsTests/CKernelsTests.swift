// CKernels: dtype conversions (exhaustive where possible) and the vector math at every SIMD
// level the CPU has, against libm in Double and against PyTorch's conversions.
import CKernels
import Foundation
import Testing
@testable import Tensors

@Suite struct ConversionTests {
    /// Every f16 bit pattern widens exactly like Swift's Float16 → Float (compiler-rt), which is
    /// exact by definition; NaNs stay NaN.
    @Test func f16ToF32Exhaustive() {
        let bits = (0 ... 0xFFFF).map { UInt16($0) }
        var out = [Float](repeating: 0, count: bits.count)
        bits.withUnsafeBufferPointer { b in out.withUnsafeMutableBufferPointer { Convert.f16ToF32(b, $0) } }
        for (i, h) in bits.enumerated() {
            let expected = Float(Float16(bitPattern: h))
            if expected.isNaN { #expect(out[i].isNaN, "0x\(String(h, radix: 16))"); continue }
            #expect(out[i].bitPattern == expected.bitPattern, "0x\(String(h, radix: 16))")
        }
    }

    /// f32 → f16 rounds to nearest even like Swift's Float16(Float): all 65536 halves, every
    /// midpoint between neighbours (ties, both parities), midpoints ± 1 ulp, and random floats.
    @Test func f32ToF16MatchesSwiftFloat16() {
        var inputs: [Float] = []
        for h in 0 ..< 0x7C00 {  // finite positive halves
            let a = Float(Float16(bitPattern: UInt16(h)))
            let b = Float(Float16(bitPattern: UInt16(h + 1)))
            let mid = (Double(a) + Double(b)) / 2
            let m = Float(mid)
            inputs += [a, -a, m, -m, m.nextUp, m.nextDown]
        }
        var rng = SeededRandom(seed: 7)
        for _ in 0 ..< 20000 { inputs.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        inputs += [.infinity, -.infinity, 65504, 65519.99, 65520, 1e-8, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        var out = [UInt16](repeating: 0, count: inputs.count)
        inputs.withUnsafeBufferPointer { b in out.withUnsafeMutableBufferPointer { Convert.f32ToF16(b, $0) } }
        var failures = 0
        for (i, x) in inputs.enumerated() {
            let expected = Float16(x)
            if x.isNaN {
                if !Float16(bitPattern: out[i]).isNaN { failures += 1 }
            } else if out[i] != expected.bitPattern {
                failures += 1
                if failures < 5 { Issue.record("f32 \(x) (0x\(String(x.bitPattern, radix: 16))): got 0x\(String(out[i], radix: 16)), expected 0x\(String(expected.bitPattern, radix: 16))") }
            }
        }
        #expect(failures == 0)
    }

    /// bf16 → f32 is the top half of the float; f32 → bf16 round trip of every bf16 value is exact.
    @Test func bf16RoundTripAllPatterns() {
        let bits = (0 ... 0xFFFF).map { UInt16($0) }
        var wide = [Float](repeating: 0, count: bits.count)
        var back = [UInt16](repeating: 0, count: bits.count)
        bits.withUnsafeBufferPointer { b in wide.withUnsafeMutableBufferPointer { Convert.bf16ToF32(b, $0) } }
        wide.withUnsafeBufferPointer { w in back.withUnsafeMutableBufferPointer { Convert.f32ToBF16(w, $0) } }
        for (i, b) in bits.enumerated() {
            #expect(wide[i].bitPattern == UInt32(b) << 16)
            if wide[i].isNaN { #expect(Float(bitPattern: UInt32(back[i]) << 16).isNaN) } else { #expect(back[i] == b) }
        }
    }

    /// f32 → bf16 against a naive round-to-nearest-even on the bit pattern, including ties and
    /// subnormals.
    @Test func f32ToBF16RoundsToNearestEven() {
        var rng = SeededRandom(seed: 11)
        var inputs: [Float] = (0 ..< 50000).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
        for hi in stride(from: 0, to: 0x7F80, by: 37) {  // ties: low half exactly 0x8000
            inputs.append(Float(bitPattern: UInt32(hi) << 16 | 0x8000))
            inputs.append(Float(bitPattern: UInt32(hi) << 16 | 0x7FFF))
            inputs.append(Float(bitPattern: UInt32(hi) << 16 | 0x8001))
        }
        var out = [UInt16](repeating: 0, count: inputs.count)
        inputs.withUnsafeBufferPointer { b in out.withUnsafeMutableBufferPointer { Convert.f32ToBF16(b, $0) } }
        for (i, x) in inputs.enumerated() {
            if x.isNaN { #expect(Float(bitPattern: UInt32(out[i]) << 16).isNaN); continue }
            let u = x.bitPattern
            let upper = u >> 16, lower = u & 0xFFFF
            var r = upper
            if lower > 0x8000 || (lower == 0x8000 && (upper & 1) == 1) { r += 1 }
            #expect(out[i] == UInt16(truncatingIfNeeded: r), "x = \(x)")
        }
    }

    /// PyTorch's `.to(torch.bfloat16)` and `.to(torch.float16)` of specials, ties, subnormals and
    /// random values (fixture convert.safetensors), bit for bit.
    @Test func matchesTorchConversions() throws {
        let g = try Golden("convert")
        let x = try g.floats("x")
        let torchBF16 = try g.file.view("bf16").uint16Values()
        let torchF16 = try g.file.view("f16").uint16Values()
        var bf = [UInt16](repeating: 0, count: x.count), hf = [UInt16](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { b in
            bf.withUnsafeMutableBufferPointer { Convert.f32ToBF16(b, $0) }
            hf.withUnsafeMutableBufferPointer { Convert.f32ToF16(b, $0) }
        }
        for i in 0 ..< x.count {
            if x[i].isNaN {
                #expect(Float(bitPattern: UInt32(bf[i]) << 16).isNaN && Float16(bitPattern: hf[i]).isNaN)
                continue
            }
            #expect(bf[i] == torchBF16[i], "bf16 of \(x[i])")
            #expect(hf[i] == torchF16[i], "f16 of \(x[i])")
        }
    }
}

/// SIMD-level switching is process-global: these tests run serialized, and nothing else in
/// this target changes the level.
@Suite(.serialized) struct VectorMathTests {
    static var levels: [Int32] {
        let best = gk_set_simd_level(-1)
        return [Int32(GK_SIMD_BASE), Int32(GK_SIMD_AVX2), Int32(GK_SIMD_AVX512)].filter { $0 <= best }
    }

    func atLevel<T>(_ level: Int32, _ body: () throws -> T) rethrows -> T {
        let got = gk_set_simd_level(level)
        precondition(got == level)
        defer { gk_set_simd_level(-1) }
        return try body()
    }

    /// exp within 2 ulp of libm over the whole finite range, 0 below −87.34, inf above 88.72.
    @Test(arguments: levels) func expAccuracy(level: Int32) {
        var xs: [Float] = stride(from: -87.3, through: 88.7, by: 0.0007).map { Float($0) }
        xs += [0, -0.0, 1e-30, -1e-30, 88.72, -87.33]
        var ys = [Float](repeating: 0, count: xs.count)
        atLevel(level) { gk_exp(xs, &ys, xs.count) }
        var worst = 0.0
        for (x, y) in zip(xs, ys) {
            let r = Foundation.exp(Double(x))
            guard r > Double(Float.leastNormalMagnitude), r < Double(Float.greatestFiniteMagnitude) else { continue }
            let ulp = Double(Float(r).ulp)
            worst = max(worst, abs(Double(y) - r) / ulp)
        }
        #expect(worst <= 2, "exp worst error \(worst) ulp at level \(level)")
        var special: [Float] = [-.infinity, -200, 200, .infinity, .nan]
        atLevel(level) { gk_exp(special, &special, special.count) }
        #expect(special[0] == 0 && special[1] == 0 && special[2] == .infinity && special[3] == .infinity && special[4].isNaN)
    }

    /// erf absolute error ≤ 1.6e-7 (the fitted polynomials' bound; torch's own erf is ≈ 3e-8
    /// from the truth, so GELU differs from torch by ≤ ~2e-7·|x|).
    @Test(arguments: levels) func erfAccuracy(level: Int32) {
        let xs: [Float] = stride(from: -6.0, through: 6.0, by: 0.0003).map { Float($0) } + [.infinity, -.infinity, 0]
        var ys = [Float](repeating: 0, count: xs.count)
        atLevel(level) { gk_erf(xs, &ys, xs.count) }
        var worst = 0.0
        for (x, y) in zip(xs, ys) { worst = max(worst, abs(Double(y) - Foundation.erf(Double(x)))) }
        #expect(worst <= 1.6e-7, "erf worst abs error \(worst) at level \(level)")
    }

    /// The fast kernels agree with the naive twins (libm in Double) at every level.
    @Test(arguments: levels) func activationsMatchReference(level: Int32) {
        var rng = SeededRandom(seed: UInt64(level) + 100)
        // awkward length: not a multiple of any vector width
        let x = rng.normals(4099, scale: 4)
        var fast = [Float](repeating: 0, count: x.count), slow = fast
        let kernels: [(String, (UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void,
                       (UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void)] = [
            ("gelu", Kernels.gelu, Reference.gelu), ("silu", Kernels.silu, Reference.silu)]
        for (name, f, r) in kernels {
            atLevel(level) {
                x.withUnsafeBufferPointer { xb in
                    fast.withUnsafeMutableBufferPointer { f(xb, $0) }
                    slow.withUnsafeMutableBufferPointer { r(xb, $0) }
                }
            }
            // Per element: 2 ulp of the result (float rounding of x·σ(x), 1/(1+e)) plus the erf
            // bound 1.6e-7 scaled by |x|/2 for GELU.
            var bad = 0
            for i in 0 ..< x.count where abs(fast[i] - slow[i]) > 2 * slow[i].ulp + 0.8e-7 * abs(x[i]) + 1e-30 { bad += 1 }
            #expect(bad == 0, "\(name) at level \(level): \(bad) values off, max diff \(maxAbsDiff(fast, slow))")
        }
        for n in [1, 7, 16, 33, 1025] {
            var rows = rng.normals(3 * n, scale: 5)
            if n > 1 { rows[0] = -.infinity }  // a masked entry (a row needs one finite value)
            var ref = rows
            atLevel(level) { rows.withUnsafeMutableBufferPointer { Kernels.softmaxRows($0, rows: 3, cols: n, scale: 0.3) } }
            ref.withUnsafeMutableBufferPointer { Reference.softmaxRows($0, rows: 3, cols: n, scale: 0.3) }
            // probabilities ≤ 1: 1e-6 absolute ≈ a few ulp of the largest ones
            #expect(maxAbsDiff(rows, ref) <= 1e-6, "softmax n=\(n) level \(level)")
            if n > 1 { #expect(rows[0] == 0) }
        }
    }

    /// The fused attention kernel at every SIMD level against the Double twin: several head
    /// dims (multiples of 4, 8, 16 lanes), key counts that are not multiples of the tile,
    /// causal offsets and GQA.
    @Test(arguments: levels) func fusedAttentionMatchesReference(level: Int32) {
        var rng = SeededRandom(seed: UInt64(level) + 7)
        for (T, S, H, Hkv, D, offset) in [(16, 16, 2, 2, 16, nil as Int?), (37, 37, 4, 2, 64, 0), (40, 103, 4, 1, 32, 63),
                                          (65, 65, 2, 2, 96, nil), (20, 20, 1, 1, 128, 0)] {
            let lanes = atLevel(level) { Int(gk_attention_lanes()) }
            if D % lanes != 0 { continue }
            let q = rng.normals(T * H * D), k = rng.normals(S * Hkv * D), v = rng.normals(S * Hkv * D)
            var f = [Float](repeating: 0, count: T * H * D), r = f
            let layout = AttentionLayout(qRowStride: H * D, kRowStride: Hkv * D, vRowStride: Hkv * D, outRowStride: H * D)
            let scale = 1 / Float(D).squareRoot()
            q.withUnsafeBufferPointer { qb in k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
                atLevel(level) {
                    f.withUnsafeMutableBufferPointer {
                        Kernels.attention(q: qb.baseAddress!, k: kb.baseAddress!, v: vb.baseAddress!, out: $0.baseAddress!, layout: layout,
                                          queries: T, keys: S, heads: H, kvHeads: Hkv, headDim: D, scale: scale, causalOffset: offset)
                    }
                }
                r.withUnsafeMutableBufferPointer {
                    Reference.attention(q: qb.baseAddress!, k: kb.baseAddress!, v: vb.baseAddress!, out: $0.baseAddress!, layout: layout,
                                        queries: T, keys: S, heads: H, kvHeads: Hkv, headDim: D, scale: scale, causalOffset: offset)
                }
            } } }
            // convex mixes of N(0,1) values; Float32 scores over D ≤ 128 terms and ≤ 2-ulp exp
            #expect(maxAbsDiff(f, r) <= 2e-5, "level \(level) T=\(T) S=\(S) D=\(D): \(maxAbsDiff(f, r))")
        }
    }
}
