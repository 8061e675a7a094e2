// The f32 GEMM of the exact path's many-row products (`Kernels.matmulF32`, oneDNN's f32 matmul on
// weights read as stored) against its naive twin `Reference.linear`, and the seam
// (`LinearLayer` with `precision: .f32`) on both storage formats and both sides of the GEMV limit.
import Foundation
import Tensors
import Testing

@Suite struct F32MatmulTests {
    /// f32 sums of C products differ from Double sums by at most C·2⁻²⁴·Σ|terms| (plus the final
    /// rounding); the output's padding columns are left alone.
    @Test(arguments: [(T: 4, C: 5, OC: 7), (T: 17, C: 96, OC: 129), (T: 300, C: 160, OC: 48), (T: 64, C: 1000, OC: 33)])
    func matchesTwin(_ s: (T: Int, C: Int, OC: Int)) {
        var rng = SeededRandom(seed: UInt64(s.T * 1000 + s.C))
        let x = rng.normals(s.T * s.C), w = rng.normals(s.OC * s.C)
        let stride = s.OC + 3
        var got = [Float](repeating: -7, count: s.T * stride), want = [Float](repeating: 0, count: s.T * s.OC)
        x.withUnsafeBufferPointer { xb in
            w.withUnsafeBufferPointer { wb in
                got.withUnsafeMutableBufferPointer {
                    Kernels.matmulF32(xb.baseAddress!, rows: s.T, weight: wb.baseAddress!, outFeatures: s.OC, inFeatures: s.C,
                                      out: $0.baseAddress!, outRowStride: stride)
                }
                want.withUnsafeMutableBufferPointer {
                    Reference.linear(x: xb, weight: wb, bias: nil, out: $0, rows: s.T, inFeatures: s.C, outFeatures: s.OC)
                }
            }
        }
        for t in 0 ..< s.T {
            for o in 0 ..< s.OC {
                var bound = 0.0
                for c in 0 ..< s.C { bound += abs(Double(x[t * s.C + c]) * Double(w[o * s.C + c])) }
                let g = Double(got[t * stride + o]), e = Double(want[t * s.OC + o])
                #expect(abs(g - e) <= Double(s.C + 1) * 0x1p-24 * bound + 1e-30, "[\(t), \(o)] of \(s): \(g) vs \(e)")
            }
            for o in s.OC ..< stride { #expect(got[t * stride + o] == -7, "padding column \(o) of row \(t) written") }
        }
    }

    /// The f32 seam: product plus bias for f32 and bf16-stored weights (the latter widened in
    /// chunks that the scratch bounds), below and above the GEMV row limit.
    @Test(arguments: [1, LinearLayer.gemvRowLimit, 40])
    func linearLayerIsProductPlusBias(_ rows: Int) {
        let C = 96, OC = 70
        var rng = SeededRandom(seed: UInt64(rows))
        let x = rng.normals(rows * C), bias = rng.normals(OC)
        let w = Convert.roundTripBF16(rng.normals(OC * C))
        let bits = w.map { UInt16($0.bitPattern >> 16) }
        var want = [Float](repeating: 0, count: rows * OC)
        x.withUnsafeBufferPointer { xb in
            w.withUnsafeBufferPointer { wb in
                bias.withUnsafeBufferPointer { bb in
                    want.withUnsafeMutableBufferPointer { Reference.linear(x: xb, weight: wb, bias: bb, out: $0, rows: rows, inFeatures: C, outFeatures: OC) }
                }
            }
        }
        // Scratch for 16 widened rows at a time: 5 chunks of the 70 output rows.
        var scratch = [Float](repeating: 0, count: 16 * C)
        for storage in [MatrixStorage.f32(w), .bf16(bits)] {
            let layer = LinearLayer(outFeatures: OC, inFeatures: C, weight: storage, bias: bias, precision: .f32)
            var got = [Float](repeating: .nan, count: rows * OC)
            x.withUnsafeBufferPointer { xb in
                got.withUnsafeMutableBufferPointer { ob in
                    scratch.withUnsafeMutableBufferPointer { layer.apply(xb.baseAddress!, rows: rows, out: ob.baseAddress!, scratch: $0) }
                }
            }
            let scale = want.reduce(Float(0)) { max($0, abs($1)) }
            #expect(maxAbsDiff(got, want) <= 1e-5 * scale, "\(layer.weight.kernelName), \(rows) rows")
        }
    }
}
