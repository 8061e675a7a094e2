// The small layers every SAM 2 part uses, loaded strictly from a checkpoint scope: Linear (also a
// 1×1 Conv2d), LayerNorm, and transformers' `Sam2FeedForward` (proj_in, layers.*, proj_out).
// Activations are channels-last rows `[T, C]` (Tensors README conventions).
//
// Every weight matrix product goes through Tensors' GEMM seam `LinearLayer`, packed once at load
// for the `Precision` the caller passed to `SAM2Model.load` / `SAM2VideoComponents.load`: f32 is
// the exact path (OpenBLAS sgemm, goldens); bf16 is plain bf16 (weights and activations rounded
// once to bf16, f32 accumulation, oneDNN), whose error on the goldens the README states.
import Checkpoints
import Foundation
import Tensors

/// A checkpoint scope and the precision its weight matrices are packed for (fixed at load).
struct SAM2Weights: Sendable {
    let weights: WeightScope
    let precision: Precision

    func scope(_ name: String) -> SAM2Weights { SAM2Weights(weights: weights.scope(name), precision: precision) }
    func take(_ name: String, shape: [Int]) throws -> Tensor { try weights.take(name, shape: shape) }
    func ignore(_ name: String) { weights.ignore(name) }
}

struct Linear: Sendable {
    let layer: LinearLayer

    /// `nn.Linear(in, out)` at `scope.name` (`.weight`, `.bias`).
    init(_ scope: SAM2Weights, _ name: String, in inFeatures: Int, out outFeatures: Int, bias hasBias: Bool = true) throws {
        let s = scope.scope(name)
        let weight = try s.take("weight", shape: [outFeatures, inFeatures])
        let bias = hasBias ? try s.take("bias", shape: [outFeatures]) : nil
        self.init(matrix: weight.storage, out: outFeatures, in: inFeatures, bias: bias?.storage, precision: scope.precision)
    }

    /// A 1×1 `nn.Conv2d(in, out)`: the `[out, in, 1, 1]` weight is the linear map on channels-last rows.
    init(conv1x1 scope: SAM2Weights, _ name: String, in inFeatures: Int, out outFeatures: Int) throws {
        let s = scope.scope(name)
        let weight = try s.take("weight", shape: [outFeatures, inFeatures, 1, 1])
        let bias = try s.take("bias", shape: [outFeatures])
        self.init(matrix: weight.storage, out: outFeatures, in: inFeatures, bias: bias.storage, precision: scope.precision)
    }

    /// A `[out, in]` row-major matrix (a convolution's weight viewed as a GEMM operand).
    init(matrix: [Float], out outFeatures: Int, in inFeatures: Int, bias: [Float]?, precision: Precision) {
        layer = LinearLayer(outFeatures: outFeatures, inFeatures: inFeatures, weight: .f32(matrix), bias: bias,
                            precision: precision, faithfulBF16: false)
    }

    var outFeatures: Int { layer.outFeatures }

    /// `x [T, in]` → `activation(x · Wᵀ + b)`, `[T, out]` (any leading shape).
    func callAsFunction(_ x: Tensor, activation: MatmulActivation = .none) -> Tensor {
        precondition(x.rowLength == layer.inFeatures, "Linear: x \(x.shape) for [\(layer.outFeatures), \(layer.inFeatures)]")
        let shape = Array(x.shape.dropLast()) + [layer.outFeatures]
        guard x.rowCount > 0 else { return Tensor(shape: shape) }
        return Tensor(shape: shape, unsafeUninitialized: { yb in
            x.withUnsafeBufferPointer { xb in apply(xb.baseAddress!, rows: x.rowCount, out: yb.baseAddress!, activation: activation) }
        })
    }

    /// The product on raw rows: `x [T, in]` (dense) → `out [T, out]`.
    func apply(_ x: UnsafePointer<Float>, rows T: Int, out: UnsafeMutablePointer<Float>, activation: MatmulActivation = .none) {
        // f32 weights: the seam's scratch (for bf16-stored weights) is never used.
        layer.apply(x, rows: T, out: out, scratch: UnsafeMutableBufferPointer(start: nil, count: 0), activation: activation)
    }
}

struct LayerNorm: Sendable {
    let weight: Tensor
    let bias: Tensor
    let eps: Float

    init(_ scope: SAM2Weights, _ name: String, width: Int, eps: Double) throws {
        let s = scope.scope(name)
        weight = try s.take("weight", shape: [width])
        bias = try s.take("bias", shape: [width])
        self.eps = Float(eps)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { Ops.layerNorm(x, weight: weight, bias: bias, eps: eps) }
}

/// `F.relu` (NaN stays NaN).
func relu(_ x: Tensor) -> Tensor {
    var y = x
    y.withUnsafeMutableBufferPointer { Kernels.relu(UnsafeBufferPointer($0), $0) }
    return y
}

/// `torch.sigmoid` on Float32.
func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }

/// transformers' `Sam2FeedForward`: proj_in, activation, (layers.i, activation)*, proj_out
/// (`num_layers` linears in all), optional sigmoid.
struct FeedForward: Sendable {
    let projIn: Linear
    let layers: [Linear]
    let projOut: Linear
    let activation: MatmulActivation
    let sigmoidOutput: Bool

    init(_ scope: SAM2Weights, _ name: String, input: Int, hidden: Int, output: Int, numLayers: Int,
         activation: MatmulActivation, sigmoidOutput: Bool = false) throws {
        let s = scope.scope(name)
        projIn = try Linear(s, "proj_in", in: input, out: hidden)
        layers = try (0 ..< max(numLayers - 2, 0)).map { try Linear(s, "layers.\($0)", in: hidden, out: hidden) }
        projOut = try Linear(s, "proj_out", in: hidden, out: output)
        self.activation = activation
        self.sigmoidOutput = sigmoidOutput
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = projIn(x, activation: activation)
        for layer in layers { h = layer(h, activation: activation) }
        h = projOut(h)
        if sigmoidOutput { h = Tensor(shape: h.shape, h.storage.map(sigmoid)) }
        return h
    }
}

/// Records named intermediates (tests compare them with the goldens' tensors of the same names).
public typealias SAM2Tap = (_ name: String, _ value: Tensor) -> Void

/// `[T, C]` channels-last rows of an `H×W` grid → planar `[C, H, W]` (and back).
func planar(_ x: Tensor, height H: Int, width W: Int) -> Tensor {
    let C = x.rowLength
    precondition(x.rowCount == H * W, "planar: \(x.shape) is not a \(H)×\(W) grid")
    return Tensor(shape: [C, H, W], unsafeUninitialized: { out in
        x.withUnsafeBufferPointer { xb in
            for p in 0 ..< H * W { for c in 0 ..< C { out[c * H * W + p] = xb[p * C + c] } }
        }
    })
}

func channelsLast(_ x: Tensor, channels C: Int) -> Tensor {
    let n = x.count / C
    return Tensor(shape: [n, C], unsafeUninitialized: { out in
        x.withUnsafeBufferPointer { xb in
            for p in 0 ..< n { for c in 0 ..< C { out[p * C + c] = xb[c * n + p] } }
        }
    })
}

/// Attention kernel choice of every SAM 2 attention: the fused f32 kernel (`Kernels.attention`),
/// or in bf16 precision, for long key sequences (global Hiera blocks, memory attention, the
/// decoder's token→image attention), the bf16-product kernel (`Kernels.attentionBF16`).
func sam2Attention(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                   layout: AttentionLayout, queries T: Int, keys S: Int, heads H: Int, headDim D: Int, precision: Precision) {
    let scale = 1 / Float(D).squareRoot()
    if precision == .bf16 && S >= 1024 && T >= 16 {
        Kernels.attentionBF16(q: q, k: k, v: v, out: out, layout: layout, queries: T, keys: S, heads: H, headDim: D, scale: scale)
    } else {
        Kernels.attention(q: q, k: k, v: v, out: out, layout: layout, queries: T, keys: S, heads: H, kvHeads: H, headDim: D,
                          scale: scale, causalOffset: nil)
    }
}

/// `sam2Attention` on dense `[T, H·D]`, `[S, H·D]` tensors (as `Ops.attention`).
func sam2Attention(q: Tensor, k: Tensor, v: Tensor, heads H: Int, precision: Precision) -> Tensor {
    precondition(q.rank == 2 && k.rank == 2 && k.shape == v.shape && q.shape[1] == k.shape[1] && q.shape[1] % H == 0,
                 "attention: q \(q.shape), k \(k.shape), v \(v.shape)")
    let T = q.shape[0], S = k.shape[0], W = q.shape[1]
    var out = Tensor(shape: [T, W])
    guard T > 0 else { return out }
    let layout = AttentionLayout(qRowStride: W, kRowStride: W, vRowStride: W, outRowStride: W)
    q.withUnsafeBufferPointer { qb in
        k.withUnsafeBufferPointer { kb in
            v.withUnsafeBufferPointer { vb in
                out.withUnsafeMutableBufferPointer { ob in
                    sam2Attention(q: qb.baseAddress!, k: kb.baseAddress!, v: vb.baseAddress!, out: ob.baseAddress!, layout: layout,
                                  queries: T, keys: S, heads: H, headDim: W / H, precision: precision)
                }
            }
        }
    }
    return out
}
