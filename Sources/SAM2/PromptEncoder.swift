// SAM 2's prompt encoder (transformers `Sam2PromptEncoder`) and the random-Fourier positional
// embedding it shares with the mask decoder (`Sam2PositionalEmbedding`: coordinates in [0, 1] →
// 2c − 1 → · G (a fixed Gaussian [2, C/2] matrix stored in the checkpoint) → 2π· → [sin, cos]).
//
// Sparse tokens: one per point (label 1 positive, 0 negative, −1 "not a point": the padding token
// added when there is no box, 2/3 box corners; −10 a padding point that contributes zeros), then
// the two box corners. Dense embedding: the mask prompt (`[4E, 4E]` low-res logits) through two
// 2×2-stride-2 convolutions with channels-first LayerNorm + GELU and a 1×1 convolution, or the
// learned no-mask embedding at every position of the `E×E` grid.
import Checkpoints
import Foundation
import Tensors

/// One point prompt in model-input coordinates (the `image_size`² square).
public struct SAM2Point: Sendable, Equatable {
    public var x: Float
    public var y: Float
    /// 1 positive, 0 negative (−1 not-a-point and −10 padding are accepted as the reference does).
    public var label: Int
    public init(x: Float, y: Float, label: Int) {
        self.x = x
        self.y = y
        self.label = label
    }
}

/// A box prompt in model-input coordinates.
public struct SAM2Box: Sendable, Equatable {
    public var x0: Float, y0: Float, x1: Float, y1: Float
    public init(x0: Float, y0: Float, x1: Float, y1: Float) {
        self.x0 = x0
        self.y0 = y0
        self.x1 = x1
        self.y1 = y1
    }
}

/// The random-Fourier positional embedding (`shared_image_embedding`).
struct FourierPositionalEmbedding: Sendable {
    let gaussian: Tensor  // [2, C/2]

    /// Coordinates already in [0, 1] → `[count, C]`.
    func embed(_ coords: [(Float, Float)]) -> Tensor {
        let half = gaussian.shape[1]
        let twoPi = Float(2 * Double.pi)
        return Tensor(shape: [coords.count, 2 * half], unsafeUninitialized: { out in
            gaussian.withUnsafeBufferPointer { g in
                for (i, (x, y)) in coords.enumerated() {
                    let cx = 2 * x - 1, cy = 2 * y - 1
                    for j in 0 ..< half {
                        let v = twoPi * (cx * g[j] + cy * g[half + j])
                        out[i * 2 * half + j] = sin(v)
                        out[i * 2 * half + half + j] = cos(v)
                    }
                }
            }
        })
    }

    /// The embedding of every cell centre of an `E×E` grid, channels-last `[E·E, C]`
    /// (`Sam2Model.get_image_wide_positional_embeddings`).
    func grid(_ E: Int) -> Tensor {
        var coords: [(Float, Float)] = []
        for y in 0 ..< E { for x in 0 ..< E { coords.append(((Float(x + 1) - 0.5) / Float(E), (Float(y + 1) - 0.5) / Float(E))) } }
        return embed(coords)
    }
}

public struct PromptEncoder: Sendable {
    let config: SAM2Config.PromptEncoder
    let positional: FourierPositionalEmbedding
    let pointEmbed: Tensor  // [numPointEmbeddings, C]
    let notAPoint: Tensor  // [1, C]
    let noMask: Tensor  // [1, C]
    let conv1Weight: Tensor, conv1Bias: Tensor, conv2Weight: Tensor, conv2Bias: Tensor
    let conv3: Linear
    let norm1: LayerNorm, norm2: LayerNorm

    init(_ w: SAM2Weights, config p: SAM2Config.PromptEncoder, positional: FourierPositionalEmbedding) throws {
        config = p
        self.positional = positional
        let C = p.hiddenSize, m = p.maskInputChannels
        pointEmbed = try w.take("point_embed.weight", shape: [p.numPointEmbeddings, C])
        notAPoint = try w.take("not_a_point_embed.weight", shape: [1, C])
        noMask = try w.take("no_mask_embed.weight", shape: [1, C])
        let me = w.scope("mask_embed")
        conv1Weight = try me.take("conv1.weight", shape: [m / 4, 1, 2, 2])
        conv1Bias = try me.take("conv1.bias", shape: [m / 4])
        conv2Weight = try me.take("conv2.weight", shape: [m, m / 4, 2, 2])
        conv2Bias = try me.take("conv2.bias", shape: [m])
        conv3 = try Linear(conv1x1: me, "conv3", in: m, out: C)
        norm1 = try LayerNorm(me, "layer_norm1", width: m / 4, eps: p.layerNormEps)
        norm2 = try LayerNorm(me, "layer_norm2", width: m, eps: p.layerNormEps)
        // The prompt encoder's copy of the Gaussian matrix is tied to `shared_image_embedding`.
        w.ignore("shared_embedding.positional_embedding")
    }

    var embeddingSize: Int { config.imageSize / config.patchSize }
    var maskInputSize: Int { 4 * embeddingSize }

    /// Sparse tokens `[n, C]` for the points (padded with a not-a-point token when there is no
    /// box) and the box. With neither, the reference's single not-a-point token (label −1 at (0, 0)),
    /// padded as above.
    func sparse(points: [SAM2Point], box: SAM2Box?) -> Tensor {
        var points = points
        if points.isEmpty && box == nil { points = [SAM2Point(x: 0, y: 0, label: -1)] }
        var rows: [Float] = []
        let C = config.hiddenSize, S = Float(config.imageSize)
        if !points.isEmpty {
            if box == nil { points.append(SAM2Point(x: 0, y: 0, label: -1)) }
            let pe = positional.embed(points.map { (($0.x + 0.5) / S, ($0.y + 0.5) / S) })
            for (i, p) in points.enumerated() {
                var row = Array(pe.storage[i * C ..< (i + 1) * C])
                if p.label == -1 { row = notAPoint.storage }
                if p.label == -10 { row = [Float](repeating: 0, count: C) }
                if p.label >= 0 { for c in 0 ..< C { row[c] += pointEmbed.storage[p.label * C + c] } }
                rows += row
            }
        }
        if let box {
            let pe = positional.embed([((box.x0 + 0.5) / S, (box.y0 + 0.5) / S), ((box.x1 + 0.5) / S, (box.y1 + 0.5) / S)])
            for corner in 0 ..< 2 {
                for c in 0 ..< C { rows.append(pe.storage[corner * C + c] + pointEmbed.storage[(2 + corner) * C + c]) }
            }
        }
        return Tensor(shape: [rows.count / C, C], rows)
    }

    /// Dense embedding `[E·E, C]`: of the mask prompt `[4E, 4E]` (low-res logits), or the no-mask embedding.
    func dense(mask: Tensor?) -> Tensor {
        let E = embeddingSize, C = config.hiddenSize
        guard let mask else {
            return Tensor(shape: [E * E, C], (0 ..< E * E).flatMap { _ in noMask.storage })
        }
        let M = maskInputSize
        precondition(mask.count == M * M, "dense: mask prompt \(mask.shape), expected \(M)×\(M)")
        var h = Ops.patchEmbed(mask.reshaped([1, M, M]), weight: conv1Weight, bias: conv1Bias)  // [(2E)², m/4]
        h = Ops.gelu(norm1(h))
        h = Ops.patchEmbed(planar(h, height: 2 * E, width: 2 * E), weight: conv2Weight, bias: conv2Bias)  // [E², m]
        h = Ops.gelu(norm2(h))
        return conv3(h)
    }
}
