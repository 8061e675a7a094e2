// SAM 2's mask decoder (transformers `Sam2MaskDecoder` + `Sam2TwoWayTransformer`). Tokens
// [object-score, IoU, 4 mask tokens, sparse prompt tokens] attend to the image embedding (plus the
// dense prompt embedding) in a two-way transformer; the image side is upscaled ×4 by two 2×2
// transposed convolutions that add the high-resolution FPN features (conv_s1, conv_s0); each mask
// token's hypernetwork MLP gives the weights of its mask. Outputs: 4 low-res mask logits
// `[4E, 4E]`, 4 IoU predictions (sigmoid) and the object-score logit; `select` applies the
// reference's `multimask_output` rule (masks 1…3, or mask 0 unless unstable, then the best of 1…3).
import Checkpoints
import Foundation
import Tensors

/// transformers' `Sam2Attention`: q/k/v projections to `hidden / downsample`, heads, o_proj.
struct DecoderAttention: Sendable {
    let q: Linear, k: Linear, v: Linear, o: Linear
    let heads: Int
    let precision: Precision

    init(_ w: SAM2Weights, hidden: Int, downsample: Int, heads: Int) throws {
        precision = w.precision
        let inner = hidden / downsample
        q = try Linear(w, "q_proj", in: hidden, out: inner)
        k = try Linear(w, "k_proj", in: hidden, out: inner)
        v = try Linear(w, "v_proj", in: hidden, out: inner)
        o = try Linear(w, "o_proj", in: inner, out: hidden)
        self.heads = heads
    }

    func callAsFunction(query: Tensor, key: Tensor, value: Tensor) -> Tensor {
        o(sam2Attention(q: q(query), k: k(key), v: v(value), heads: heads, precision: precision))
    }
}

struct TwoWayBlock: Sendable {
    let selfAttn: DecoderAttention, crossTokenToImage: DecoderAttention, crossImageToToken: DecoderAttention
    let norm1: LayerNorm, norm2: LayerNorm, norm3: LayerNorm, norm4: LayerNorm
    let mlp: FeedForward
    let skipFirstLayerPE: Bool

    init(_ w: SAM2Weights, config d: SAM2Config.MaskDecoder, skipFirstLayerPE: Bool) throws {
        let C = d.hiddenSize
        selfAttn = try DecoderAttention(w.scope("self_attn"), hidden: C, downsample: 1, heads: d.numAttentionHeads)
        crossTokenToImage = try DecoderAttention(w.scope("cross_attn_token_to_image"), hidden: C, downsample: d.attentionDownsampleRate, heads: d.numAttentionHeads)
        crossImageToToken = try DecoderAttention(w.scope("cross_attn_image_to_token"), hidden: C, downsample: d.attentionDownsampleRate, heads: d.numAttentionHeads)
        // nn.LayerNorm's default eps.
        norm1 = try LayerNorm(w, "layer_norm1", width: C, eps: 1e-5)
        norm2 = try LayerNorm(w, "layer_norm2", width: C, eps: 1e-5)
        norm3 = try LayerNorm(w, "layer_norm3", width: C, eps: 1e-5)
        norm4 = try LayerNorm(w, "layer_norm4", width: C, eps: 1e-5)
        // The reference builds this MLP with num_layers = num_hidden_layers (2 in every SAM 2.1 config).
        mlp = try FeedForward(w, "mlp", input: C, hidden: d.mlpDim, output: C, numLayers: d.numHiddenLayers, activation: .relu)
        self.skipFirstLayerPE = skipFirstLayerPE
    }

    func callAsFunction(queries: Tensor, keys: Tensor, queryPE: Tensor, keyPE: Tensor) -> (Tensor, Tensor) {
        var queries = queries, keys = keys
        if skipFirstLayerPE {
            queries = selfAttn(query: queries, key: queries, value: queries)
        } else {
            let q = Ops.add(queries, queryPE)
            Ops.addInPlace(&queries, selfAttn(query: q, key: q, value: queries))
        }
        queries = norm1(queries)
        var q = Ops.add(queries, queryPE), k = Ops.add(keys, keyPE)
        Ops.addInPlace(&queries, crossTokenToImage(query: q, key: k, value: keys))
        queries = norm2(queries)
        Ops.addInPlace(&queries, mlp(queries))
        queries = norm3(queries)
        q = Ops.add(queries, queryPE)
        k = Ops.add(keys, keyPE)
        Ops.addInPlace(&keys, crossImageToToken(query: k, key: q, value: queries))
        keys = norm4(keys)
        return (queries, keys)
    }
}

/// A 2×2 stride-2 `nn.ConvTranspose2d` on a channels-last `E×E` grid → `2E×2E`: each input pixel's
/// `[Cin]` row times the weight viewed as `[Cin, 2·2·Cout]` (one GEMM through the seam; the
/// `[Cin, Cout, 2, 2]` weight is reordered at load so the columns of output pixel (a, b) are
/// contiguous, bias included) gives its four output pixels, copied to their places.
struct ConvTranspose2x2: Sendable {
    let layer: Linear  // [2·2·Cout, Cin], row (a·2 + b)·Cout + o
    let outChannels: Int

    init(_ w: SAM2Weights, _ name: String, in cin: Int, out cout: Int) throws {
        let s = w.scope(name)
        let weight = try s.take("weight", shape: [cin, cout, 2, 2])
        let bias = try s.take("bias", shape: [cout])
        var matrix = [Float](repeating: 0, count: 4 * cout * cin)
        weight.withUnsafeBufferPointer { wb in
            for i in 0 ..< cin { for o in 0 ..< cout { for ab in 0 ..< 4 {
                matrix[(ab * cout + o) * cin + i] = wb[(i * cout + o) * 4 + ab]
            } } }
        }
        let biases = (0 ..< 4).flatMap { _ in bias.storage }
        layer = Linear(matrix: matrix, out: 4 * cout, in: cin, bias: biases, precision: w.precision)
        outChannels = cout
    }

    func callAsFunction(_ x: Tensor, side E: Int) -> Tensor {
        let y = layer(x)  // [E², 4·Cout], columns (a·2 + b)·Cout + o
        let C = outChannels, side = 2 * E
        return Tensor(shape: [side * side, C], unsafeUninitialized: { out in
            y.withUnsafeBufferPointer { yb in
                for i in 0 ..< E { for j in 0 ..< E { for a in 0 ..< 2 { for b in 0 ..< 2 {
                    (out.baseAddress! + ((2 * i + a) * side + 2 * j + b) * C)
                        .update(from: yb.baseAddress! + ((i * E + j) * 4 + a * 2 + b) * C, count: C)
                } } } }
            }
        })
    }
}

/// The decoder's raw outputs for all mask tokens.
public struct SAM2DecoderOutput: Sendable {
    /// `[numMaskTokens, 4E·4E]` low-res logits (planar masks).
    public var masks: Tensor
    /// `[numMaskTokens]` predicted IoU.
    public var iou: [Float]
    /// Object-score logit (> 0: an object is present).
    public var objectScoreLogit: Float
}

public struct MaskDecoder: Sendable {
    let config: SAM2Config.MaskDecoder
    let objScoreToken: Tensor, iouToken: Tensor, maskTokens: Tensor
    let layers: [TwoWayBlock]
    let finalAttn: DecoderAttention
    let finalNorm: LayerNorm
    let upscale1: ConvTranspose2x2, upscale2: ConvTranspose2x2
    let upscaleNorm: LayerNorm
    let hypernetworks: [FeedForward]
    let iouHead: FeedForward, objectScoreHead: FeedForward
    /// 1×1 convolutions of the FPN levels 0 and 1 (applied by the image encoder path).
    let convS0: Linear, convS1: Linear

    var numMaskTokens: Int { config.numMultimaskOutputs + 1 }

    init(_ w: SAM2Weights, config d: SAM2Config.MaskDecoder) throws {
        config = d
        let C = d.hiddenSize, n = d.numMultimaskOutputs + 1
        objScoreToken = try w.take("obj_score_token.weight", shape: [1, C])
        iouToken = try w.take("iou_token.weight", shape: [1, C])
        maskTokens = try w.take("mask_tokens.weight", shape: [n, C])
        let t = w.scope("transformer")
        layers = try (0 ..< d.numHiddenLayers).map { try TwoWayBlock(t.scope("layers.\($0)"), config: d, skipFirstLayerPE: $0 == 0) }
        finalAttn = try DecoderAttention(t.scope("final_attn_token_to_image"), hidden: C, downsample: d.attentionDownsampleRate, heads: d.numAttentionHeads)
        finalNorm = try LayerNorm(t, "layer_norm_final_attn", width: C, eps: 1e-5)
        upscale1 = try ConvTranspose2x2(w, "upscale_conv1", in: C, out: C / 4)
        upscale2 = try ConvTranspose2x2(w, "upscale_conv2", in: C / 4, out: C / 8)
        upscaleNorm = try LayerNorm(w, "upscale_layer_norm", width: C / 4, eps: 1e-6)
        hypernetworks = try (0 ..< n).map {
            try FeedForward(w, "output_hypernetworks_mlps.\($0)", input: C, hidden: C, output: C / 8, numLayers: 3, activation: .relu)
        }
        iouHead = try FeedForward(w, "iou_prediction_head", input: C, hidden: d.iouHeadHiddenDim, output: n,
                                  numLayers: d.iouHeadDepth, activation: .relu, sigmoidOutput: true)
        objectScoreHead = try FeedForward(w, "pred_obj_score_head", input: C, hidden: C, output: 1, numLayers: 3, activation: .relu)
        convS0 = try Linear(conv1x1: w, "conv_s0", in: C, out: C / 8)
        convS1 = try Linear(conv1x1: w, "conv_s1", in: C, out: C / 4)
    }

    /// - image: `[E·E, C]` image embedding (no-memory embedding added), imagePE: `[E·E, C]`,
    ///   sparse: `[n, C]`, dense: `[E·E, C]`, featS0: `[(4E)², C/8]`, featS1: `[(2E)², C/4]`.
    func callAsFunction(image: Tensor, imagePE: Tensor, sparse: Tensor, dense: Tensor, featS0: Tensor, featS1: Tensor,
                        side E: Int, tap: SAM2Tap? = nil) -> SAM2DecoderOutput {
        let C = config.hiddenSize, n = numMaskTokens
        let tokens = Tensor(shape: [2 + n + sparse.rowCount, C], objScoreToken.storage + iouToken.storage + maskTokens.storage + sparse.storage)
        var queries = tokens, keys = Ops.add(image, dense)
        for layer in layers { (queries, keys) = layer(queries: queries, keys: keys, queryPE: tokens, keyPE: imagePE) }
        let q = Ops.add(queries, tokens), k = Ops.add(keys, imagePE)
        Ops.addInPlace(&queries, finalAttn(query: q, key: k, value: keys))
        queries = finalNorm(queries)
        tap?("decoder.tokens", queries)

        var up = upscale1(keys, side: E)
        Ops.addInPlace(&up, featS1)
        up = Ops.gelu(upscaleNorm(up))
        up = upscale2(up, side: 2 * E)
        Ops.addInPlace(&up, featS0)
        up = Ops.gelu(up)  // [(4E)², C/8]

        let row = { (i: Int) in Tensor(shape: [1, C], Array(queries.storage[i * C ..< (i + 1) * C])) }
        let hyper = Tensor(shape: [n, C / 8], (0 ..< n).flatMap { hypernetworks[$0](row(2 + $0)).storage })
        let masks = Ops.matmul(hyper, up, transposeB: true)  // [n, (4E)²]
        let iou = iouHead(row(1)).storage
        let objectScore = objectScoreHead(row(0)).storage[0]
        return SAM2DecoderOutput(masks: masks, iou: iou, objectScoreLogit: objectScore)
    }

    /// The reference's `multimask_output` rule: masks 1…n−1 when true; otherwise mask 0, unless
    /// `dynamic_multimask_via_stability` finds it unstable (stability = #(logit > δ) / #(logit > −δ)
    /// below the threshold), then the multimask output with the highest predicted IoU.
    func select(_ out: SAM2DecoderOutput, multimaskOutput: Bool) -> (masks: Tensor, iou: [Float]) {
        let pixels = out.masks.rowLength
        func mask(_ i: Int) -> [Float] { Array(out.masks.storage[i * pixels ..< (i + 1) * pixels]) }
        if multimaskOutput {
            let n = numMaskTokens
            return (Tensor(shape: [n - 1, pixels], (1 ..< n).flatMap(mask)), Array(out.iou[1...]))
        }
        if config.dynamicMultimaskViaStability {
            let delta = Float(config.dynamicMultimaskStabilityDelta)
            let single = mask(0)
            let inter = single.reduce(0) { $0 + ($1 > delta ? 1 : 0) }, union = single.reduce(0) { $0 + ($1 > -delta ? 1 : 0) }
            let stability: Float = union > 0 ? Float(inter) / Float(union) : 1
            if stability < Float(config.dynamicMultimaskStabilityThresh) {
                var best = 1
                for i in 2 ..< numMaskTokens where out.iou[i] > out.iou[best] { best = i }
                return (Tensor(shape: [1, pixels], mask(best)), [out.iou[best]])
            }
        }
        return (Tensor(shape: [1, pixels], mask(0)), [out.iou[0]])
    }
}
