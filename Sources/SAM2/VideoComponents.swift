// SAM 2.1 video-mode components (transformers `Sam2VideoModel`, issue 13 phase 2): the memory
// encoder, memory attention with 2-D RoPE, object pointers (projection, no-object mix, temporal
// positional encoding) and the memory bank's positional encodings. Each matches the reference on
// the reference's own inputs (Tests/SAM2Tests/SAM2VideoComponentTests.swift); the per-frame
// propagation loop that chains them is in VideoPredictor.swift.
import Checkpoints
import Foundation
import Tensors

/// The video-mode fields of a `sam2_video` config.json (the rest is `SAM2Config`'s).
public struct SAM2VideoConfig: Decodable, Sendable {
    public var numMaskmem: Int
    public var imageSize: Int
    public var sigmoidScaleForMemEnc: Double
    public var sigmoidBiasForMemEnc: Double
    public var enableOcclusionSpatialEmbedding: Bool
    public var maxObjectPointersInEncoder: Int
    public var enableTemporalPosEncodingForObjectPointers: Bool
    public var memoryAttentionHiddenSize: Int
    public var memoryAttentionNumLayers: Int
    public var memoryAttentionNumAttentionHeads: Int
    public var memoryAttentionDownsampleRate: Int
    public var memoryAttentionFeedForwardHiddenSize: Int
    public var memoryAttentionFeedForwardHiddenAct: String
    public var memoryAttentionRopeTheta: Double
    public var memoryAttentionRopeFeatSizes: [Int]
    public var memoryEncoderHiddenSize: Int
    public var memoryEncoderOutputChannels: Int
    public var maskDownsamplerEmbedDim: Int
    public var maskDownsamplerKernelSize: Int
    public var maskDownsamplerStride: Int
    public var maskDownsamplerPadding: Int
    public var maskDownsamplerTotalStride: Int
    public var maskDownsamplerHiddenAct: String
    public var memoryFuserNumLayers: Int
    public var memoryFuserEmbedDim: Int
    public var memoryFuserIntermediateDim: Int
    public var memoryFuserKernelSize: Int
    public var memoryFuserPadding: Int
    public var memoryFuserHiddenAct: String

    public static func load(directory: String) throws -> SAM2VideoConfig {
        let path = (directory as NSString).appendingPathComponent("config.json")
        let c = try ConfigFile.decode(SAM2VideoConfig.self, path: path, snakeCaseKeys: true)
        func fail(_ problem: String) -> SAM2Error { .unsupportedConfig(file: path, problem: problem) }
        guard [c.maskDownsamplerHiddenAct, c.memoryFuserHiddenAct].allSatisfy({ $0 == "gelu" }), c.memoryAttentionFeedForwardHiddenAct == "relu" else {
            throw fail("activations other than gelu (mask downsampler, fuser) and relu (memory attention)")
        }
        let head = c.memoryAttentionHiddenSize / (c.memoryAttentionDownsampleRate * c.memoryAttentionNumAttentionHeads)
        guard head % 4 == 0, c.memoryAttentionRopeFeatSizes.count == 2 else { throw fail("memory attention head width \(head) is not a multiple of 4") }
        // The reference's memory cross-attention takes 64-wide memories (`kv_in_dim=64`), and object
        // pointers are split into memory-wide tokens.
        guard c.memoryEncoderOutputChannels == 64, c.memoryAttentionHiddenSize % 64 == 0, c.memoryAttentionHiddenSize > 64 else {
            throw fail("memory_encoder_output_channels \(c.memoryEncoderOutputChannels) / memory_attention_hidden_size \(c.memoryAttentionHiddenSize) (64 and a larger multiple of 64)")
        }
        var side = c.imageSize, layers = 0
        while side > c.imageSize / c.maskDownsamplerTotalStride, layers < 8 {
            side = Kernels.convOutputSize(side, kernel: c.maskDownsamplerKernelSize, stride: c.maskDownsamplerStride, padding: c.maskDownsamplerPadding)
            layers += 1
        }
        guard side == c.imageSize / c.maskDownsamplerTotalStride else { throw fail("mask downsampler strides do not reach the embedding grid") }
        return c
    }

    /// `log2(total_stride) // log2(stride)`, as the reference counts the downsampler's layers.
    var maskDownsamplerLayers: Int {
        Int((log2(Double(maskDownsamplerTotalStride)) / log2(Double(maskDownsamplerStride))).rounded(.down))
    }
}

/// Rounds to the nearest bfloat16 (ties to even), as `tensor.to(torch.bfloat16)`; NaN stays NaN.
func roundToBFloat16(_ x: Float) -> Float {
    if x.isNaN { return x }
    let bits = x.bitPattern
    let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000
    return Float(bitPattern: rounded)
}

/// A depthwise `K×K` convolution (`groups = C`, stride 1, zero padding `P`) on a channels-last
/// `S×S` grid `[S², C]` → `[S², C]`, direct (vectorised over channels); `weight: [C, 1, K, K]`.
private func depthwiseConv(_ x: Tensor, channels C: Int, side S: Int, weight: Tensor, bias: Tensor, kernel K: Int, padding P: Int) -> Tensor {
    // Weights tap-major: [K·K, C].
    var taps = [Float](repeating: 0, count: K * K * C)
    weight.withUnsafeBufferPointer { wb in for c in 0 ..< C { for t in 0 ..< K * K { taps[t * C + c] = wb[c * K * K + t] } } }
    var out = Tensor(shape: [S * S, C])
    x.withUnsafeBufferPointer { xb in
        bias.withUnsafeBufferPointer { bb in
            out.withUnsafeMutableBufferPointer { ob in
                taps.withUnsafeBufferPointer { tb in
                    parallelFor(S, grain: 4) { rows in
                        var acc = [Float](repeating: 0, count: C)
                        for y in rows {
                            for xx in 0 ..< S {
                                for c in 0 ..< C { acc[c] = 0 }
                                for dy in 0 ..< K {
                                    let sy = y + dy - P
                                    if sy < 0 || sy >= S { continue }
                                    for dx in 0 ..< K {
                                        let sx = xx + dx - P
                                        if sx < 0 || sx >= S { continue }
                                        let src = (sy * S + sx) * C, tap = (dy * K + dx) * C
                                        for c in 0 ..< C { acc[c] += xb[src + c] * tb[tap + c] }
                                    }
                                }
                                let dst = (y * S + xx) * C
                                for c in 0 ..< C { ob[dst + c] = acc[c] + bb[c] }
                            }
                        }
                    }
                }
            }
        }
    }
    return out
}

/// transformers' `Sam2VideoMemoryEncoder` + `_encode_new_memory`: the mask (binarised when it
/// comes from a prompt, else a sigmoid; ×20 − 10) downsampled to the embedding grid, added to the
/// projected image features, two ConvNeXt blocks, a 1×1 projection to the memory width; the
/// occlusion embedding when the object is absent; stored in bfloat16 as the reference does.
struct MemoryEncoder: Sendable {
    /// A `K×K` stride-`s` convolution as a GEMM over im2col rows (`conv: [out, in·K·K]`), LayerNorm, GELU.
    struct Downsample: Sendable { let conv: Linear, norm: LayerNorm, inChannels: Int, outChannels: Int }
    struct FuserBlock: Sendable { let depthwiseWeight: Tensor, depthwiseBias: Tensor, norm: LayerNorm, pw1: Linear, pw2: Linear, scale: Tensor }
    let config: SAM2VideoConfig
    let downsample: [Downsample]
    let finalConv: Linear
    let featureProjection: Linear
    let fuser: [FuserBlock]
    let projection: Linear
    let occlusion: Tensor?

    init(_ w: SAM2Weights, config c: SAM2VideoConfig) throws {
        config = c
        let e = w.scope("memory_encoder"), K = c.maskDownsamplerKernelSize
        var chans = 1, layers: [Downsample] = []
        for i in 0 ..< c.maskDownsamplerLayers {
            let out = chans * c.maskDownsamplerStride * c.maskDownsamplerStride
            let s = e.scope("mask_downsampler.layers.\(i)")
            let conv = Linear(matrix: try s.take("conv.weight", shape: [out, chans, K, K]).storage, out: out, in: chans * K * K,
                              bias: try s.take("conv.bias", shape: [out]).storage, precision: w.precision)
            layers.append(Downsample(conv: conv, norm: try LayerNorm(s, "layer_norm", width: out, eps: 1e-6), inChannels: chans, outChannels: out))
            chans = out
        }
        downsample = layers
        let C = c.memoryEncoderHiddenSize, F = c.memoryFuserKernelSize
        finalConv = try Linear(conv1x1: e, "mask_downsampler.final_conv", in: chans, out: c.maskDownsamplerEmbedDim)
        featureProjection = try Linear(conv1x1: e, "feature_projection", in: C, out: C)
        fuser = try (0 ..< c.memoryFuserNumLayers).map { i in
            let s = e.scope("memory_fuser.layers.\(i)")
            return FuserBlock(depthwiseWeight: try s.take("depthwise_conv.weight", shape: [C, 1, F, F]), depthwiseBias: try s.take("depthwise_conv.bias", shape: [C]),
                              norm: try LayerNorm(s, "layer_norm", width: C, eps: 1e-6),
                              pw1: try Linear(s, "pointwise_conv1", in: C, out: c.memoryFuserIntermediateDim),
                              pw2: try Linear(s, "pointwise_conv2", in: c.memoryFuserIntermediateDim, out: C), scale: try s.take("scale", shape: [C]))
        }
        projection = try Linear(conv1x1: e, "projection", in: C, out: c.memoryEncoderOutputChannels)
        occlusion = c.enableOcclusionSpatialEmbedding
            ? try w.take("occlusion_spatial_embedding_parameter", shape: [1, c.memoryEncoderOutputChannels]).reshaped([c.memoryEncoderOutputChannels]) : nil
    }

    /// `pixelFeatures: [E², C]` (FPN level 2, without the no-memory embedding), `highResMasks: [S, S]`
    /// logits → (`[E², 64]` memory features, bfloat16-valued; `[E², 64]` positional encoding).
    func callAsFunction(pixelFeatures: Tensor, highResMasks: Tensor, objectScoreLogit: Float, maskFromPrompt: Bool,
                        tap: SAM2Tap? = nil) -> (features: Tensor, positional: Tensor) {
        let c = config, S = c.imageSize
        let scale = Float(c.sigmoidScaleForMemEnc), bias = Float(c.sigmoidBiasForMemEnc)
        var x = Tensor(shape: [1, S, S], highResMasks.storage.map { (maskFromPrompt ? ($0 > 0 ? 1 : 0) : sigmoid($0)) * scale + bias })
        var side = S
        for layer in downsample {
            let outSide = Kernels.convOutputSize(side, kernel: c.maskDownsamplerKernelSize, stride: c.maskDownsamplerStride, padding: c.maskDownsamplerPadding)
            let K = c.maskDownsamplerKernelSize
            var columns = Tensor(shape: [outSide * outSide, layer.inChannels * K * K])
            x.withUnsafeBufferPointer { xb in
                columns.withUnsafeMutableBufferPointer {
                    Kernels.im2col(image: xb, channels: layer.inChannels, height: side, width: side, kernel: K,
                                   stride: c.maskDownsamplerStride, padding: c.maskDownsamplerPadding, out: $0)
                }
            }
            let y = layer.conv(columns)
            side = outSide
            x = planar(Ops.gelu(layer.norm(y)), height: side, width: side)
        }
        let E = side
        var h = featureProjection(pixelFeatures)
        Ops.addInPlace(&h, finalConv(channelsLast(x, channels: downsample.last?.outChannels ?? 1)))
        for block in fuser {
            let C = h.rowLength
            let d = depthwiseConv(h, channels: C, side: E, weight: block.depthwiseWeight, bias: block.depthwiseBias,
                                  kernel: c.memoryFuserKernelSize, padding: c.memoryFuserPadding)
            var r = block.pw2(block.pw1(block.norm(d), activation: .gelu))
            r.withUnsafeMutableBufferPointer { rb in for i in 0 ..< rb.count { rb[i] *= block.scale.storage[i % C] } }
            Ops.addInPlace(&h, r)
        }
        var features = projection(h)
        tap?("encoder_features", features)
        if let occlusion, !(objectScoreLogit > 0) {
            features.withUnsafeMutableBufferPointer { fb in for i in 0 ..< fb.count { fb[i] += occlusion.storage[i % occlusion.count] } }
        }
        features = Tensor(shape: features.shape, features.storage.map(roundToBFloat16))
        return (features, sinePositionalEncoding(side: E, channels: c.memoryEncoderOutputChannels))
    }
}

/// `Sam2VideoPositionEmbeddingSine(num_pos_feats = channels / 2, normalize = True)` on an `E×E`
/// grid → `[E², channels]` (y features, then x; sin on even, cos on odd indices).
func sinePositionalEncoding(side E: Int, channels: Int) -> Tensor {
    let F = channels / 2
    let scale = 2 * Float.pi
    // torch: 10000 ** (float32 exponent) in float32.
    let dimT32 = (0 ..< F).map { Foundation.powf(10000, Float(2 * ($0 / 2)) / Float(F)) }
    var out = Tensor(shape: [E * E, channels])
    out.withUnsafeMutableBufferPointer { o in
        for y in 0 ..< E {
            for x in 0 ..< E {
                let ye = Float(y + 1) / (Float(E) + 1e-6) * scale, xe = Float(x + 1) / (Float(E) + 1e-6) * scale
                for d in 0 ..< F {
                    let py = ye / dimT32[d], px = xe / dimT32[d]
                    o[(y * E + x) * channels + d] = d % 2 == 0 ? Foundation.sin(py) : Foundation.cos(py)
                    o[(y * E + x) * channels + F + d] = d % 2 == 0 ? Foundation.sin(px) : Foundation.cos(px)
                }
            }
        }
    }
    return out
}

/// Axial 2-D rotary embedding of `Sam2VideoVisionRotaryEmbedding`: `[E², D]` cos and sin, D = head width.
struct AxialRoPE: Sendable {
    let cos: [Float], sin: [Float], positions: Int, dim: Int

    init(dim D: Int, side: [Int], theta: Double) {
        let freqs = stride(from: 0, to: D, by: 4).prefix(D / 4).map { Float(1) / Foundation.powf(Float(theta), Float($0) / Float(D)) }
        let n = side[0] * side[1]
        var c = [Float](repeating: 0, count: n * D), s = c
        for i in 0 ..< n {
            let xp = Float(i % side[0]), yp = Float(i / side[0])
            let angles = freqs.map { xp * $0 } + freqs.map { yp * $0 }
            for (j, a) in angles.enumerated() {
                for k in 0 ..< 2 { c[i * D + 2 * j + k] = Foundation.cos(a); s[i * D + 2 * j + k] = Foundation.sin(a) }
            }
        }
        cos = c; sin = s; positions = n; dim = D
    }

    /// `x * cos + rotate_pairwise(x) * sin` on the first `rows` rows of `[T, H·D]` (position `t % positions`).
    func apply(_ x: inout Tensor, heads H: Int, rows: Int) {
        let D = dim
        cos.withUnsafeBufferPointer { cb in
            sin.withUnsafeBufferPointer { sb in
                x.withUnsafeMutableBufferPointer { xb in
                    let xp = xb.baseAddress!, cp = cb.baseAddress!, sp = sb.baseAddress!, positions = positions
                    parallelFor(rows, grain: 256) { range in
                        for t in range {
                            let p = (t % positions) * D
                            for h in 0 ..< H {
                                let base = t * H * D + h * D
                                for j in stride(from: 0, to: D, by: 2) {
                                    let a = xp[base + j], b = xp[base + j + 1]
                                    xp[base + j] = a * cp[p + j] + (-b) * sp[p + j]
                                    xp[base + j + 1] = b * cp[p + j + 1] + a * sp[p + j + 1]
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `Sam2VideoRoPEAttention`.
struct RoPEAttention: Sendable {
    let q: Linear, k: Linear, v: Linear, o: Linear, heads: Int
    let precision: Precision

    init(_ w: SAM2Weights, hidden: Int, keyWidth: Int, width I: Int, heads: Int) throws {
        precision = w.precision
        q = try Linear(w, "q_proj", in: hidden, out: I)
        k = try Linear(w, "k_proj", in: keyWidth, out: I)
        v = try Linear(w, "v_proj", in: keyWidth, out: I)
        o = try Linear(w, "o_proj", in: I, out: hidden)
        self.heads = heads
    }

    func callAsFunction(query: Tensor, key: Tensor, value: Tensor, rope: AxialRoPE, keysExcludedFromRoPE: Int = 0) -> Tensor {
        var qp = q(query), kp = k(key)
        rope.apply(&qp, heads: heads, rows: qp.rowCount)
        rope.apply(&kp, heads: heads, rows: kp.rowCount - keysExcludedFromRoPE)
        return o(sam2Attention(q: qp, k: kp, v: v(value), heads: heads, precision: precision))
    }
}

/// `Sam2VideoMemoryAttention`: the current frame's features attend to themselves and to the memory
/// bank (spatial memories + object-pointer tokens, the latter without RoPE).
struct MemoryAttention: Sendable {
    struct Layer: Sendable {
        let selfAttn: RoPEAttention, crossAttn: RoPEAttention
        let linear1: Linear, linear2: Linear, norm1: LayerNorm, norm2: LayerNorm, norm3: LayerNorm
    }
    let layers: [Layer]
    let norm: LayerNorm
    let rope: AxialRoPE

    init(_ w: SAM2Weights, config c: SAM2VideoConfig) throws {
        let m = w.scope("memory_attention"), C = c.memoryAttentionHiddenSize, I = C / c.memoryAttentionDownsampleRate
        let heads = c.memoryAttentionNumAttentionHeads
        layers = try (0 ..< c.memoryAttentionNumLayers).map { i in
            let s = m.scope("layers.\(i)")
            return Layer(selfAttn: try RoPEAttention(s.scope("self_attn"), hidden: C, keyWidth: C, width: I, heads: heads),
                         crossAttn: try RoPEAttention(s.scope("cross_attn_image"), hidden: C, keyWidth: 64, width: I, heads: heads),
                         linear1: try Linear(s, "linear1", in: C, out: c.memoryAttentionFeedForwardHiddenSize),
                         linear2: try Linear(s, "linear2", in: c.memoryAttentionFeedForwardHiddenSize, out: C),
                         norm1: try LayerNorm(s, "layer_norm1", width: C, eps: 1e-5), norm2: try LayerNorm(s, "layer_norm2", width: C, eps: 1e-5),
                         norm3: try LayerNorm(s, "layer_norm3", width: C, eps: 1e-5))
        }
        norm = try LayerNorm(m, "layer_norm", width: C, eps: 1e-5)
        rope = AxialRoPE(dim: I / heads, side: c.memoryAttentionRopeFeatSizes, theta: c.memoryAttentionRopeTheta)
    }

    /// `current, currentPE: [E², C]`; `memory, memoryPE: [M, 64]` whose last `pointerTokens` rows are object-pointer tokens.
    func callAsFunction(current: Tensor, currentPE: Tensor, memory: Tensor, memoryPE: Tensor, pointerTokens: Int) -> Tensor {
        var x = Tensor(shape: current.shape, zip(current.storage, currentPE.storage).map { $0 + 0.1 * $1 })
        let keys = Ops.add(memory, memoryPE)
        for l in layers {
            var q = l.norm1(x)
            Ops.addInPlace(&x, l.selfAttn(query: q, key: q, value: q, rope: rope))
            q = l.norm2(x)
            Ops.addInPlace(&x, l.crossAttn(query: q, key: keys, value: memory, rope: rope, keysExcludedFromRoPE: pointerTokens))
            Ops.addInPlace(&x, l.linear2(l.linear1(l.norm3(x), activation: .relu)))
        }
        return norm(x)
    }
}

/// Object pointers: `object_pointer_proj` on the chosen SAM output token, mixed with
/// `no_object_pointer` when the object score is ≤ 0; their temporal positional encoding
/// (`get_1d_sine_pe` + `temporal_positional_encoding_projection_layer`); the memory bank's
/// temporal encoding `memory_temporal_positional_encoding`.
struct ObjectPointers: Sendable {
    let projection: FeedForward
    let noObjectPointer: Tensor
    let temporalProjection: Linear?
    /// `[num_maskmem, 64]`.
    let memoryTemporalEncoding: Tensor
    let hidden: Int, memoryWidth: Int

    init(_ w: SAM2Weights, config c: SAM2VideoConfig) throws {
        let C = c.memoryAttentionHiddenSize, M = c.memoryEncoderOutputChannels
        projection = try FeedForward(w, "object_pointer_proj", input: C, hidden: C, output: C, numLayers: 3, activation: .relu)
        noObjectPointer = try w.take("no_object_pointer", shape: [1, C]).reshaped([C])
        temporalProjection = c.enableTemporalPosEncodingForObjectPointers ? try Linear(w, "temporal_positional_encoding_projection_layer", in: C, out: M) : nil
        memoryTemporalEncoding = try w.take("memory_temporal_positional_encoding", shape: [c.numMaskmem, 1, 1, M]).reshaped([c.numMaskmem, M])
        hidden = C; memoryWidth = M
    }

    /// The pointer of one frame from its SAM output token `[C]`.
    func pointer(token: Tensor, objectScoreLogit: Float) -> Tensor {
        let p = projection(token.reshaped([1, hidden]))
        return objectScoreLogit > 0 ? p.reshaped([hidden]) : noObjectPointer
    }

    /// Memory-wide tokens of pointers `[n][C]` (each split into C/64 rows) and their positional
    /// encodings for temporal distances `diffs` over `maxDistance = max_object_pointers − 1`.
    func tokens(pointers: [Tensor], diffs: [Int], maxDistance: Int) -> (tokens: Tensor, positional: Tensor) {
        let splits = hidden / memoryWidth, M = memoryWidth
        let rows = pointers.flatMap(\.storage)
        var pe = [Float]()
        let half = hidden / 2
        let dimT = (0 ..< half).map { Foundation.powf(10000, Float(2 * ($0 / 2)) / Float(half)) }
        for d in diffs {
            let t = Float(d) / Float(maxDistance)
            let sine = (0 ..< half).map { Foundation.sin(t / dimT[$0]) } + (0 ..< half).map { Foundation.cos(t / dimT[$0]) }
            let projected = temporalProjection.map { $0(Tensor(shape: [1, hidden], sine)).storage } ?? [Float](repeating: 0, count: M)
            for _ in 0 ..< splits { pe += projected }
        }
        return (Tensor(shape: [pointers.count * splits, M], rows), Tensor(shape: [pointers.count * splits, M], pe))
    }
}

/// The video-mode part of a SAM 2.1 checkpoint, loaded strictly: every key under
/// `SAM2Model.videoModePrefixes` is used (`mask_downsample`, the mask-as-output path's 4×4 conv,
/// is taken and kept for the propagation loop; `no_memory_positional_encoding` is unused by the
/// reference's forward pass too).
public final class SAM2VideoComponents: Sendable {
    public let config: SAM2VideoConfig
    let memoryEncoder: MemoryEncoder
    let memoryAttention: MemoryAttention
    let pointers: ObjectPointers
    let maskDownsampleWeight: Tensor, maskDownsampleBias: Tensor
    let noMemoryPositionalEncoding: Tensor

    init(config: SAM2VideoConfig, _ w: SAM2Weights) throws {
        self.config = config
        memoryEncoder = try MemoryEncoder(w, config: config)
        memoryAttention = try MemoryAttention(w, config: config)
        pointers = try ObjectPointers(w, config: config)
        maskDownsampleWeight = try w.take("mask_downsample.weight", shape: [1, 1, 4, 4])
        maskDownsampleBias = try w.take("mask_downsample.bias", shape: [1])
        noMemoryPositionalEncoding = try w.take("no_memory_positional_encoding", shape: [1, 1, config.memoryAttentionHiddenSize])
    }

    /// Image-mode key prefixes: `SAM2Model.load` takes those (a full video checkpoint holds both parts).
    static let imageModePrefixes = ["vision_encoder.", "prompt_encoder.", "mask_decoder.", "shared_image_embedding.", "no_memory_embedding"]

    /// Loads from `directory/config.json` and the weights file (default: the directory's
    /// checkpoint), strictly: every video-mode key is used, image-mode keys are left to
    /// `SAM2Model.load`, anything else fails with the loader's full report.
    /// Weight matrices are packed for `precision` (f32: the exact path the goldens check).
    public static func load(directory: String, weights: String? = nil, precision: Precision = .f32) throws -> SAM2VideoComponents {
        let config = try SAM2VideoConfig.load(directory: directory)
        let checkpoint = try weights.map { try Checkpoint(files: [SafeTensorsFile(path: $0)], source: $0) } ?? Checkpoint(directory: directory)
        let loader = WeightLoader(checkpoint)
        let model = try SAM2VideoComponents(config: config, SAM2Weights(weights: loader.scope(""), precision: precision))
        for name in checkpoint.names where imageModePrefixes.contains(where: { name.hasPrefix($0) }) {
            loader.scope("").ignore(name)
        }
        try loader.finish()
        return model
    }
}

/// What a processed frame leaves in an object's memory bank.
public struct SAM2FrameMemory: Sendable {
    /// `[E², 64]` bfloat16-valued memory features and their `[E², 64]` positional encoding.
    public var features: Tensor
    public var positional: Tensor
    /// `[hidden]` object pointer (already the no-object pointer when the object was absent).
    public var pointer: Tensor
}

extension SAM2VideoComponents {
    /// `_prepare_memory_conditioned_features`' memory bank for `frame` (a frame without a prompt):
    /// every conditioning frame (Δt 0, i.e. temporal row −1), the `num_maskmem − 1` previous tracked
    /// frames in tracking order (offsets 1…, mirrored when tracking backward), then the object
    /// pointers — conditioning frames not after `frame` (not before, backward) with their distance,
    /// and tracked frames at distances 1 ..< max_ptrs — as 64-wide tokens.
    /// `conditioning` is in the order the prompts were added (the reference's dict order).
    func memoryBank(frame: Int, reverse: Bool, numFrames: Int, conditioning: [(frame: Int, memory: SAM2FrameMemory)],
                    tracked: [Int: SAM2FrameMemory]) -> (memory: Tensor, positional: Tensor, pointerTokens: Int) {
        let M = pointers.memoryWidth
        var memory: [Float] = [], positional: [Float] = []
        func addSpatial(_ m: SAM2FrameMemory, offset: Int) {
            let row = (offset - 1 + config.numMaskmem) % config.numMaskmem  // Python's [offset − 1]
            memory += m.features.storage
            positional += m.positional.storage.enumerated().map { $1 + pointers.memoryTemporalEncoding.storage[row * M + $0 % M] }
        }
        for c in conditioning { addSpatial(c.memory, offset: 0) }
        for offset in stride(from: config.numMaskmem - 1, to: 0, by: -1) {
            if let m = tracked[reverse ? frame + offset : frame - offset] { addSpatial(m, offset: offset) }
        }
        let maxPointers = min(numFrames, config.maxObjectPointersInEncoder)
        var ptrs: [Tensor] = [], diffs: [Int] = []
        for c in conditioning where reverse ? c.frame >= frame : c.frame <= frame {
            ptrs.append(c.memory.pointer); diffs.append((frame - c.frame) * (reverse ? -1 : 1))
        }
        for d in 1 ..< max(maxPointers, 1) {
            let ref = reverse ? frame + d : frame - d
            if ref < 0 || ref >= numFrames { break }
            if let m = tracked[ref] { ptrs.append(m.pointer); diffs.append(d) }
        }
        var pointerTokens = 0
        if !ptrs.isEmpty {
            let (tokens, pe) = pointers.tokens(pointers: ptrs, diffs: diffs, maxDistance: maxPointers - 1)
            memory += tokens.storage; positional += pe.storage; pointerTokens = tokens.rowCount
        }
        let rows = memory.count / M
        return (Tensor(shape: [rows, M], memory), Tensor(shape: [rows, M], positional), pointerTokens)
    }

    /// The current frame's `[E², C]` features (FPN level 2, without the no-memory embedding)
    /// conditioned on the bank by memory attention.
    func conditionedFeatures(current: Tensor, currentPE: Tensor,
                             bank: (memory: Tensor, positional: Tensor, pointerTokens: Int)) -> Tensor {
        memoryAttention(current: current, currentPE: currentPE, memory: bank.memory, memoryPE: bank.positional, pointerTokens: bank.pointerTokens)
    }
}
