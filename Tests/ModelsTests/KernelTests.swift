// The Models module's own fast kernels against their naive twins: the bf16 GEMV (every SIMD path),
// the linear layer on bf16 storage (GEMV and widen+sgemm paths), the Llama RoPE with a position
// offset.
import Basics
import CKernels
import Foundation
@testable import Models
import Tensors
import Testing

/// Deterministic test data.
struct TestRandom {
    var rng: SplitMix64
    init(_ seed: UInt64) { rng = SplitMix64(seed: seed) }
    mutating func float() -> Float { Float(rng.nextUnit() * 2 - 1) }
    mutating func floats(_ n: Int) -> [Float] { (0 ..< n).map { _ in float() } }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: rng.next()) }
    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
}

func bf16Bits(_ x: [Float]) -> [UInt16] {
    var out = [UInt16](repeating: 0, count: x.count)
    x.withUnsafeBufferPointer { xb in out.withUnsafeMutableBufferPointer { Convert.f32ToBF16(xb, $0) } }
    return out
}

@Suite(.serialized) struct KernelTests {
    /// Every code path (portable, AVX2, AVX-512 where the CPU has it) on awkward shapes. The
    /// twin sums in Double; the kernel in f32 with a different order: agreement to 1e-6 relative
    /// of Σ|w·x| (the f32 rounding of a C-term dot product is ≤ C·2⁻²⁴ of that sum).
    @Test(arguments: [(1, 1), (3, 7), (4, 16), (5, 33), (17, 100), (64, 2048), (7, 4097)])
    func gemvBF16MatchesTwin(_ shape: (Int, Int)) {
        let (rows, cols) = shape
        var r = TestRandom(UInt64(rows * 1000 + cols))
        let w = bf16Bits(r.floats(rows * cols)), x = r.floats(cols)
        var want = [Float](repeating: 0, count: rows)
        Reference.gemvBF16(w, rows: rows, cols: cols, x: x, y: &want)
        var bound = [Double](repeating: 0, count: rows)
        for i in 0 ..< rows { for c in 0 ..< cols { bound[i] += abs(Double(Float(bitPattern: UInt32(w[i * cols + c]) << 16)) * Double(x[c])) } }
        let best = gk_set_simd_level(-1)
        defer { _ = gk_set_simd_level(-1) }
        for level in [GK_SIMD_BASE, GK_SIMD_AVX2, GK_SIMD_AVX512] where Int32(level) <= best {
            _ = gk_set_simd_level(Int32(level))
            var got = [Float](repeating: 0, count: rows)
            w.withUnsafeBufferPointer { wb in got.withUnsafeMutableBufferPointer { LinearLayer.gemvBF16(wb.baseAddress!, rows: rows, cols: cols, x: x, y: $0.baseAddress!) } }
            for i in 0 ..< rows {
                #expect(abs(Double(got[i]) - Double(want[i])) <= 1e-6 * bound[i] + 1e-30, "level \(level) row \(i): \(got[i]) vs \(want[i])")
            }
        }
    }

    /// LinearLayer on bf16 storage equals the f32 layer over the widened weights: exactly for the
    /// widen+sgemm path (same sgemm on the same numbers), to f32 rounding for the GEMV path.
    @Test(arguments: [1, 2, 3, 4, 9, 40])
    func bf16LinearEqualsWidenedF32(_ rows: Int) {
        let C = 96, OC = 70
        var r = TestRandom(UInt64(rows))
        let bits = bf16Bits(r.floats(OC * C)), x = r.floats(rows * C), bias = r.floats(OC)
        let widened = bits.map { Float(bitPattern: UInt32($0) << 16) }
        let bfLayer = LinearLayer(outFeatures: OC, inFeatures: C, weight: .bf16(bits), bias: bias, precision: .f32)
        let f32Layer = LinearLayer(outFeatures: OC, inFeatures: C, weight: .f32(widened), bias: bias, precision: .f32)
        let scratch = FloatBuffer(count: 2 * C)   // small on purpose: several widened chunks
        var a = [Float](repeating: 0, count: rows * OC), b = a
        x.withUnsafeBufferPointer { xb in
            a.withUnsafeMutableBufferPointer { bfLayer.apply(xb.baseAddress!, rows: rows, out: $0.baseAddress!, scratch: scratch.buffer) }
            b.withUnsafeMutableBufferPointer { f32Layer.apply(xb.baseAddress!, rows: rows, out: $0.baseAddress!, scratch: scratch.buffer) }
        }
        let (d, s) = maxAbsDiff(a, b)
        // GEMV path (rows < 4): different summation order, so within 1e-6 relative; sgemm path:
        // bias added after instead of before the product, so within an ulp or two.
        #expect(d <= 1e-6 * s, "max |Δ| \(d) of \(s)")
    }

    /// Llama RoPE at an offset equals Tensors' half-split kernel on a table starting there.
    @Test func ropeWithOffsetMatchesTensorsKernel() {
        let inv = Rope.llama3InvFreq(headDim: 16, theta: 500000, factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192)
        let rope = HalfSplitRope(invFreq: inv, positions: 100)
        var r = TestRandom(9)
        let T = 5, H = 3, stride = 60, p0 = 37
        let x = r.floats(T * stride)
        var ours = x, theirs = x
        ours.withUnsafeMutableBufferPointer { rope.apply($0.baseAddress!, rowStride: stride, rows: T, heads: H, firstPosition: p0) }
        let table = Rope.halfSplitTable(invFreq: inv, positions: Array(p0 ..< p0 + T))
        theirs.withUnsafeMutableBufferPointer { Kernels.ropeHalfSplit($0.baseAddress!, rowStride: stride, rows: T, heads: H, table: table) }
        #expect(ours == theirs)
    }
}
