// The small layers every SAM 2 part uses, loaded strictly from a `WeightScope`: Linear (also a
// 1×1 Conv2d), LayerNorm, and transformers' `Sam2FeedForward` (proj_in, layers.*, proj_out).
// Activations are channels-last rows `[T, C]` (Tensors README conventions).
import Checkpoints
import Foundation
import Tensors

struct Linear: Sendable {
    let weight: Tensor  // [out, in]
    let bias: Tensor?

    /// `nn.Linear(in, out)` at `scope.name` (`.weight`, `.bias`).
    init(_ scope: WeightScope, _ name: String, in inFeatures: Int, out outFeatures: Int, bias hasBias: Bool = true) throws {
        let s = scope.scope(name)
        weight = try s.take("weight", shape: [outFeatures, inFeatures])
        bias = hasBias ? try s.take("bias", shape: [outFeatures]) : nil
    }

    /// A 1×1 `nn.Conv2d(in, out)`: the `[out, in, 1, 1]` weight is the linear map on channels-last rows.
    init(conv1x1 scope: WeightScope, _ name: String, in inFeatures: Int, out outFeatures: Int) throws {
        let s = scope.scope(name)
        weight = try s.take("weight", shape: [outFeatures, inFeatures, 1, 1]).reshaped([outFeatures, inFeatures])
        bias = try s.take("bias", shape: [outFeatures])
    }

    var outFeatures: Int { weight.shape[0] }

    func callAsFunction(_ x: Tensor) -> Tensor { Ops.linear(x, weight, bias: bias) }
}

struct LayerNorm: Sendable {
    let weight: Tensor
    let bias: Tensor
    let eps: Float

    init(_ scope: WeightScope, _ name: String, width: Int, eps: Double) throws {
        let s = scope.scope(name)
        weight = try s.take("weight", shape: [width])
        bias = try s.take("bias", shape: [width])
        self.eps = Float(eps)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { Ops.layerNorm(x, weight: weight, bias: bias, eps: eps) }
}

enum Activation: Sendable {
    case relu, gelu

    func apply(_ x: Tensor) -> Tensor {
        switch self {
        case .gelu: return Ops.gelu(x)
        case .relu: return SAM2.relu(x)
        }
    }
}

func relu(_ x: Tensor) -> Tensor {
    Tensor(shape: x.shape, x.storage.map { $0 > 0 ? $0 : ($0.isNaN ? $0 : 0) })
}

/// `torch.sigmoid` on Float32.
func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }

/// transformers' `Sam2FeedForward`: proj_in, activation, (layers.i, activation)*, proj_out
/// (`num_layers` linears in all), optional sigmoid.
struct FeedForward: Sendable {
    let projIn: Linear
    let layers: [Linear]
    let projOut: Linear
    let activation: Activation
    let sigmoidOutput: Bool

    init(_ scope: WeightScope, _ name: String, input: Int, hidden: Int, output: Int, numLayers: Int,
         activation: Activation, sigmoidOutput: Bool = false) throws {
        let s = scope.scope(name)
        projIn = try Linear(s, "proj_in", in: input, out: hidden)
        layers = try (0 ..< max(numLayers - 2, 0)).map { try Linear(s, "layers.\($0)", in: hidden, out: hidden) }
        projOut = try Linear(s, "proj_out", in: hidden, out: output)
        self.activation = activation
        self.sigmoidOutput = sigmoidOutput
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = activation.apply(projIn(x))
        for layer in layers { h = activation.apply(layer(h)) }
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
