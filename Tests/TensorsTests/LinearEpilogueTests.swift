// `LinearLayer.apply(…, activation:)`: the bias and the activation fused into oneDNN's bf16 kernel
// (plain bf16, SAM 2's precision) or applied elementwise after the product (f32 and the other
// paths), and the bf16 products run on our own pool in row chunks (`DNNL.onOwnPool`).
import Foundation
import Tensors
import Testing

@Suite struct LinearEpilogueTests {
    static func gelu(_ v: Double) -> Double { 0.5 * v * (1 + erf(v / 2.0.squareRoot())) }

    /// Plain bf16 with bias + GELU / ReLU against the twin product (pre-rounded weights, so the
    /// twin multiplies exactly bf16(W)) plus bias, activated in Double. Row counts cover the GEMV
    /// path (1), one oneDNN call (5) and several chunks on our pool (37, 300).
    @Test(arguments: [1, 5, 37, 300], [MatmulActivation.gelu, .relu, .none])
    func plainBF16MatchesTwin(_ rows: Int, _ activation: MatmulActivation) {
        var rng = SeededRandom(seed: 11)
        let C = 64, OC = 40
        let w = rng.normals(OC * C), x = rng.normals(rows * C), bias = rng.normals(OC)
        let rounded = Convert.roundTripBF16(w)
        let layer = LinearLayer(outFeatures: OC, inFeatures: C, weight: .f32(w), bias: bias, precision: .bf16, faithfulBF16: false)
        var got = [Float](repeating: .nan, count: rows * OC), product = got
        x.withUnsafeBufferPointer { xb in
            got.withUnsafeMutableBufferPointer {
                layer.apply(xb.baseAddress!, rows: rows, out: $0.baseAddress!, scratch: UnsafeMutableBufferPointer(start: nil, count: 0),
                            activation: activation)
            }
            rounded.withUnsafeBufferPointer { rb in
                product.withUnsafeMutableBufferPointer {
                    Reference.matmulBF16(xb.baseAddress!, rows: rows, weight: rb.baseAddress!, outFeatures: OC, inFeatures: C,
                                         out: $0.baseAddress!, split: false)
                }
            }
        }
        var worst = 0.0, negatives = 0
        for i in 0 ..< rows * OC {
            let z = Double(product[i]) + Double(bias[i % OC])
            let want: Double
            switch activation {
            case .none: want = z
            case .relu: want = max(z, 0)
            case .gelu: want = Self.gelu(z)
            }
            if z < 0 { negatives += 1 }
            worst = max(worst, abs(Double(got[i]) - want))
        }
        #expect(negatives > rows * OC / 4, "inputs do not exercise the activation")
        #expect(worst <= 1e-4, "plain bf16 + bias + \(activation) vs twin: \(worst)")
    }

    /// f32: the activation is the same `Kernels` call a separate pass runs, so the result is
    /// bit-identical to product, then `Ops.gelu` / ReLU.
    @Test func f32ActivationIsTheSeparatePass() {
        var rng = SeededRandom(seed: 12)
        let rows = 33, C = 24, OC = 16
        let w = rng.normals(OC * C), xs = rng.normals(rows * C), bias = rng.normals(OC)
        let layer = LinearLayer(outFeatures: OC, inFeatures: C, weight: .f32(w), bias: bias, precision: .f32)
        let x = Tensor(shape: [rows, C], xs)
        // The same product without the activation (the f32 seam's own GEMM: oneDNN's f32 matmul for
        // ≥ 4 rows, whose summation order differs from OpenBLAS's `Ops.linear`).
        func product(_ activation: MatmulActivation) -> [Float] {
            var got = [Float](repeating: .nan, count: rows * OC)
            xs.withUnsafeBufferPointer { xb in
                got.withUnsafeMutableBufferPointer {
                    layer.apply(xb.baseAddress!, rows: rows, out: $0.baseAddress!, scratch: UnsafeMutableBufferPointer(start: nil, count: 0),
                                activation: activation)
                }
            }
            return got
        }
        let plain = Tensor(shape: [rows, OC], product(.none))
        let reference = Ops.linear(x, Tensor(shape: [OC, C], w), bias: Tensor(shape: [OC], bias))
        #expect(maxAbsDiff(plain.storage, reference.storage) <= 1e-5 * (reference.storage.map(abs).max() ?? 0))
        for activation in [MatmulActivation.gelu, .relu] {
            let got = product(activation)
            let want = activation == .gelu ? Ops.gelu(plain).storage : plain.storage.map { $0 > 0 ? $0 : 0 }
            #expect(got == want, "f32 \(activation)")
        }
    }
}

/// In ThreadingTests' suite: the only (serialized) suite that changes the process-wide thread count.
extension ThreadingTests {
    /// The bf16 products split over our pool give the same numbers on 1 and 2 threads (each row
    /// is one oneDNN product of the same weights, whichever chunk it falls in), faithful and plain.
    @Test(arguments: [true, false])
    func bf16ProductsDoNotDependOnTheThreadCount(_ faithful: Bool) {
        var rng = SeededRandom(seed: 13)
        let rows = 301, C = 96, OC = 72
        let w = rng.normals(OC * C), x = rng.normals(rows * C), bias = rng.normals(OC)
        let layer = LinearLayer(outFeatures: OC, inFeatures: C, weight: .f32(w), bias: bias, precision: .bf16, faithfulBF16: faithful)
        func run(_ threads: Int) -> [Float] {
            withThreads(threads) {
                var out = [Float](repeating: .nan, count: rows * OC)
                x.withUnsafeBufferPointer { xb in
                    out.withUnsafeMutableBufferPointer {
                        layer.apply(xb.baseAddress!, rows: rows, out: $0.baseAddress!, scratch: UnsafeMutableBufferPointer(start: nil, count: 0))
                    }
                }
                return out
            }
        }
        let one = run(1), two = run(2)
        #expect(one.allSatisfy { $0.isFinite })
        #expect(maxAbsDiff(one, two) <= 1e-5, "1 vs 2 threads: \(maxAbsDiff(one, two))")
    }
}
