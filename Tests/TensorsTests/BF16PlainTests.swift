// The plain-bf16 kernels SAM 2 runs in its bf16 precision: `Kernels.attentionBF16` against its
// naive twin (and against f32 attention within bf16 error), and `LinearLayer(faithfulBF16: false)`
// (weights and activations rounded once) against `Reference.matmulBF16(split: false)`.
import CKernels
import Foundation
import Tensors
import Testing

@Suite struct BF16PlainTests {
    /// Strided q/k/v/out rows (q and out with padding columns), several heads and query blocks.
    @Test(arguments: [(T: 40, S: 70, H: 2, D: 16), (T: 5, S: 33, H: 1, D: 24), (T: 300, S: 1100, H: 1, D: 16)])
    func attentionMatchesTwin(_ c: (T: Int, S: Int, H: Int, D: Int)) {
        var rng = SeededRandom(seed: 77)
        let W = c.H * c.D
        let layout = AttentionLayout(qRowStride: W + 3, kRowStride: 2 * W, vRowStride: 2 * W, outRowStride: W + 5)
        let q = rng.normals(c.T * layout.qRowStride), kv = rng.normals(c.S * 2 * W)
        var got = [Float](repeating: -7, count: c.T * layout.outRowStride), want = got, exact = got
        let scale = 1 / Float(c.D).squareRoot()
        q.withUnsafeBufferPointer { qb in
            kv.withUnsafeBufferPointer { kvb in
                let k = kvb.baseAddress!, v = kvb.baseAddress! + W
                got.withUnsafeMutableBufferPointer {
                    Kernels.attentionBF16(q: qb.baseAddress!, k: k, v: v, out: $0.baseAddress!, layout: layout,
                                          queries: c.T, keys: c.S, heads: c.H, headDim: c.D, scale: scale)
                }
                want.withUnsafeMutableBufferPointer {
                    Reference.attentionBF16(q: qb.baseAddress!, k: k, v: v, out: $0.baseAddress!, layout: layout,
                                            queries: c.T, keys: c.S, heads: c.H, headDim: c.D, scale: scale)
                }
                exact.withUnsafeMutableBufferPointer {
                    Reference.attention(q: qb.baseAddress!, k: k, v: v, out: $0.baseAddress!, layout: layout,
                                        queries: c.T, keys: c.S, heads: c.H, kvHeads: c.H, headDim: c.D, scale: scale, causalOffset: nil)
                }
            }
        }
        // Padding columns untouched.
        for t in 0 ..< c.T { for j in W ..< layout.outRowStride { #expect(got[t * layout.outRowStride + j] == -7) } }
        // Twin: only a probability on a bf16 rounding boundary can differ (one bf16 step of one term).
        let twin = maxAbsDiff(got, want), f32 = maxAbsDiff(got, exact)
        #expect(twin <= 2e-3, "attentionBF16 vs twin: \(twin)")
        // Against f32 attention: bf16 inputs (relative 2⁻⁹ each) on values of size ~1.
        #expect(f32 <= 3e-2, "attentionBF16 vs f32 attention: \(f32)")
        #expect(f32 > 0, "attentionBF16 equals f32 attention exactly: bf16 was not used")
    }

    /// Plain bf16 LinearLayer: x and W rounded once; equals the naive twin on pre-rounded weights.
    @Test(arguments: [1, 3, 37])
    func plainLinearLayerMatchesTwin(_ rows: Int) {
        var rng = SeededRandom(seed: 5)
        let C = 48, OC = 20
        let w = rng.normals(OC * C), x = rng.normals(rows * C), bias = rng.normals(OC)
        // bf16(w) as f32 values: the twin's residue is then zero, i.e. it multiplies bf16(w) only.
        var bits = [UInt16](repeating: 0, count: w.count)
        w.withUnsafeBufferPointer { wb in bits.withUnsafeMutableBufferPointer { Convert.f32ToBF16(wb, $0) } }
        let rounded = bits.map { Float(bitPattern: UInt32($0) << 16) }
        let layer = LinearLayer(outFeatures: OC, inFeatures: C, weight: .f32(w), bias: bias, precision: .bf16, faithfulBF16: false)
        #expect(!layer.faithfulBF16)
        var got = [Float](repeating: 0, count: rows * OC), want = got
        x.withUnsafeBufferPointer { xb in
            got.withUnsafeMutableBufferPointer {
                layer.apply(xb.baseAddress!, rows: rows, out: $0.baseAddress!, scratch: UnsafeMutableBufferPointer(start: nil, count: 0))
            }
            rounded.withUnsafeBufferPointer { rb in
                want.withUnsafeMutableBufferPointer {
                    Reference.matmulBF16(xb.baseAddress!, rows: rows, weight: rb.baseAddress!, outFeatures: OC, inFeatures: C,
                                         out: $0.baseAddress!, split: false)
                }
            }
        }
        for i in 0 ..< rows * OC { want[i] += bias[i % OC] }
        let err = maxAbsDiff(got, want)
        #expect(err <= 1e-4, "plain bf16 LinearLayer vs twin: \(err)")
        // The faithful layer on the same weights is closer to f32 than the plain one (it is not the same path).
        let faithful = LinearLayer(outFeatures: OC, inFeatures: C, weight: .f32(w), bias: bias, precision: .bf16)
        let f32 = LinearLayer(outFeatures: OC, inFeatures: C, weight: .f32(w), bias: bias, precision: .f32)
        var a = [Float](repeating: 0, count: rows * OC), b = a
        x.withUnsafeBufferPointer { xb in
            a.withUnsafeMutableBufferPointer { faithful.apply(xb.baseAddress!, rows: rows, out: $0.baseAddress!, scratch: UnsafeMutableBufferPointer(start: nil, count: 0)) }
            b.withUnsafeMutableBufferPointer { f32.apply(xb.baseAddress!, rows: rows, out: $0.baseAddress!, scratch: UnsafeMutableBufferPointer(start: nil, count: 0)) }
        }
        #expect(maxAbsDiff(a, b) < maxAbsDiff(got, b), "faithful \(maxAbsDiff(a, b)) vs plain \(maxAbsDiff(got, b))")
    }
}
