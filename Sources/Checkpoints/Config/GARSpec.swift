// The resolved GAR architecture: every size and constant the model code needs, with registry
// and Hugging Face defaults applied and consistency checked. Built from `GARConfig`.

/// Perception Encoder (timm Eva) settings, resolved.
public struct VisionTowerSpec: Sendable, Equatable {
    public var architecture: String
    public var embedDim: Int
    public var depth: Int
    public var numHeads: Int
    public var headDim: Int
    public var mlpHidden: Int
    public var patchSize: Int
    public var imageHeight: Int
    public var imageWidth: Int
    public var gridHeight: Int { imageHeight / patchSize }
    public var gridWidth: Int { imageWidth / patchSize }
    public var numPatches: Int { gridHeight * gridWidth }
    public var classToken: Bool
    /// Tokens before the patches that RoPE skips (the CLS token).
    public var numPrefixTokens: Int { classToken ? 1 : 0 }
    public var useAbsPosEmb: Bool
    public var useRotPosEmb: Bool
    public var ropeTemperature: Float
    public var ropeGridOffset: Float
    public var ropeGridIndexing: String
    public var ropeRefFeatShape: [Int]?
    public var usePreTransformerNorm: Bool
    public var usePostTransformerNorm: Bool
    /// timm's `fc_norm` exists (never used by GAR's forward, but its weights are in the checkpoint).
    public var useFcNorm: Bool
    /// LayerScale present (`gamma_1`, `gamma_2`) when init_values is set.
    public var layerScale: Bool
    public var qkvBias: Bool
    public var layerNormEps: Float
}

/// Llama decoder settings, resolved.
public struct TextModelSpec: Sendable, Equatable {
    public enum RopeScaling: Sendable, Equatable {
        case none
        case llama3(factor: Float, lowFreqFactor: Float, highFreqFactor: Float, originalMaxPositions: Int)
    }

    public var hiddenSize: Int
    public var numLayers: Int
    public var numHeads: Int
    public var numKVHeads: Int
    public var headDim: Int
    public var intermediateSize: Int
    public var rmsNormEps: Float
    public var ropeTheta: Float
    public var ropeScaling: RopeScaling
    public var vocabSize: Int
    public var tieWordEmbeddings: Bool
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    public var maxPositionEmbeddings: Int
    public var attentionBias: Bool
    public var mlpBias: Bool
}

/// Everything GAR's model code needs from config.json.
public struct GARSpec: Sendable, Equatable {
    public var vision: VisionTowerSpec
    public var text: TextModelSpec
    /// Width of the mask patch embedding (must equal the tower width).
    public var maskEmbedChannels: Int
    /// Kernel (= stride) of the mask patch embedding.
    public var maskKernelSize: Int
    public var promptNumbers: Int
    public var cropTokenIds: [Int]
    public var projectorPoolingRatio: Int
    public var visionUseClsToken: Bool
    public var imageTokenId: Int
    public var videoTokenId: Int?

    /// Resolves and checks `config` (`fileName` is used in error messages).
    public init(_ config: GARConfig, fileName: String = "config.json") throws {
        func fail(_ field: String, _ problem: String) -> CheckpointError { .config(file: fileName, field: field, problem: problem) }
        // Sizes far beyond any real checkpoint come from a damaged or hostile file: refuse them
        // before they size allocations or overflow in products (width × width, vocab × width).
        func check(_ field: String, _ value: Int, atMost limit: Int) throws {
            guard value >= 1, value <= limit else { throw fail(field, "must be between 1 and \(limit), got \(value)") }
        }
        let maxWidth = 1 << 17, maxLayers = 1024, maxVocab = 1 << 24, maxImage = 1 << 14
        guard config.modelType == "GAR" else { throw fail("model_type", "is \"\(config.modelType)\", expected \"GAR\"") }
        let m = config.mllmConfig
        let vc = m.visionConfig
        let vp = "mllm_config.vision_config"
        guard let reg = TimmPerceptionEncoderDefaults.registry[vc.architecture] else {
            let known = TimmPerceptionEncoderDefaults.registry.keys.sorted().joined(separator: ", ")
            throw fail("\(vp).architecture", "unsupported \"\(vc.architecture)\" (supported: \(known))")
        }
        let a = vc.modelArgs
        let ap = "\(vp).model_args"
        let embed = a?.embedDim ?? reg.embedDim
        let heads = a?.numHeads ?? reg.numHeads
        let patch = a?.patchSize ?? reg.patchSize
        let img = a?.imgSize?.values ?? [reg.imgSize]
        try check("\(ap).embed_dim", embed, atMost: maxWidth)
        guard heads > 0, embed % heads == 0 else { throw fail("\(ap).num_heads", "\(heads) does not divide embed_dim \(embed)") }
        guard (embed / heads) % 4 == 0 else { throw fail("\(ap).num_heads", "head dim \(embed / heads) is not a multiple of 4 (2-D RoPE)") }
        guard img.count == 1 || img.count == 2, img.allSatisfy({ $0 > 0 && $0 <= maxImage }) else {
            throw fail("\(ap).img_size", "expected one or two sizes between 1 and \(maxImage)")
        }
        let (imgH, imgW) = (img[0], img.count == 2 ? img[1] : img[0])
        guard patch > 0, imgH % patch == 0, imgW % patch == 0 else {
            throw fail("\(ap).img_size", "\(imgH)×\(imgW) is not a multiple of patch size \(patch)")
        }
        let depth = a?.depth ?? reg.depth
        try check("\(ap).depth", depth, atMost: maxLayers)
        let globalPool = a?.globalPool ?? reg.globalPool
        guard globalPool == "" || globalPool == "avg" || globalPool == "token" else {
            throw fail("\(ap).global_pool", "\"\(globalPool)\" adds a pooling head GAR does not use; expected \"\"")
        }
        let ratio = a?.mlpRatio ?? reg.mlpRatio
        guard ratio > 0, ratio <= 64 else { throw fail("\(ap).mlp_ratio", "must be in (0, 64], got \(ratio)") }
        let fcNorm = a?.useFcNorm ?? reg.useFcNorm ?? (globalPool == "avg")
        let postNorm = a?.usePostTransformerNorm ?? reg.usePostTransformerNorm ?? !fcNorm
        guard (a?.numRegTokens ?? 0) == 0 else { throw fail("\(ap).num_reg_tokens", "register tokens are not supported") }
        let indexing = a?.ropeGridIndexing ?? reg.ropeGridIndexing
        guard indexing == "xy" || indexing == "ij" else { throw fail("\(ap).rope_grid_indexing", "expected \"xy\" or \"ij\"") }
        let refShape = a?.refFeatShape?.values ?? reg.refFeatShape
        if let r = refShape, !(r.count == 1 || r.count == 2) { throw fail("\(ap).ref_feat_shape", "expected one or two sizes") }
        let vision = VisionTowerSpec(
            architecture: vc.architecture, embedDim: embed, depth: depth, numHeads: heads, headDim: embed / heads,
            mlpHidden: Int(Double(embed) * ratio), patchSize: patch, imageHeight: imgH, imageWidth: imgW,
            classToken: a?.classToken ?? reg.classToken, useAbsPosEmb: a?.useAbsPosEmb ?? true,
            useRotPosEmb: a?.useRotPosEmb ?? true, ropeTemperature: Float(a?.ropeTemperature ?? 10000),
            ropeGridOffset: Float(a?.ropeGridOffset ?? reg.ropeGridOffset), ropeGridIndexing: indexing,
            ropeRefFeatShape: refShape.map { $0.count == 1 ? [$0[0], $0[0]] : $0 },
            usePreTransformerNorm: a?.usePreTransformerNorm ?? reg.usePreTransformerNorm,
            usePostTransformerNorm: postNorm, useFcNorm: fcNorm, layerScale: (a?.initValues ?? reg.initValues) != nil,
            qkvBias: a?.qkvBias ?? true, layerNormEps: 1e-5)
        if let nf = vc.numFeatures, nf != embed { throw fail("\(vp).num_features", "\(nf) differs from embed_dim \(embed)") }

        let t = m.textConfig
        let tp = "mllm_config.text_config"
        try check("\(tp).hidden_size", t.hiddenSize, atMost: maxWidth)
        try check("\(tp).num_hidden_layers", t.numHiddenLayers, atMost: maxLayers)
        try check("\(tp).num_attention_heads", t.numAttentionHeads, atMost: maxWidth)
        let kv = t.numKeyValueHeads ?? t.numAttentionHeads
        guard kv > 0, t.numAttentionHeads % kv == 0 else {
            throw fail("\(tp).num_key_value_heads", "\(kv) does not divide num_attention_heads \(t.numAttentionHeads)")
        }
        let headDim = t.headDim ?? t.hiddenSize / t.numAttentionHeads
        guard headDim > 0, headDim <= maxWidth, headDim % 2 == 0 else { throw fail("\(tp).head_dim", "must be even and between 2 and \(maxWidth), got \(headDim)") }
        if t.headDim == nil, t.hiddenSize % t.numAttentionHeads != 0 {
            throw fail("\(tp).num_attention_heads", "\(t.numAttentionHeads) does not divide hidden_size \(t.hiddenSize)")
        }
        try check("\(tp).intermediate_size", t.intermediateSize, atMost: maxWidth)
        try check("\(tp).vocab_size", t.vocabSize, atMost: maxVocab)
        if let n = t.maxPositionEmbeddings { try check("\(tp).max_position_embeddings", n, atMost: 1 << 24) }
        if let act = t.hiddenAct, act != "silu" { throw fail("\(tp).hidden_act", "\"\(act)\" is not supported (expected \"silu\")") }
        var scaling = TextModelSpec.RopeScaling.none
        if let rs = t.ropeScaling {
            let kind = rs.ropeType ?? rs.type ?? "default"
            switch kind {
            case "default": scaling = .none
            case "llama3":
                guard let f = rs.factor else { throw fail("\(tp).rope_scaling.factor", "missing") }
                guard let lo = rs.lowFreqFactor else { throw fail("\(tp).rope_scaling.low_freq_factor", "missing") }
                guard let hi = rs.highFreqFactor else { throw fail("\(tp).rope_scaling.high_freq_factor", "missing") }
                guard let orig = rs.originalMaxPositionEmbeddings else {
                    throw fail("\(tp).rope_scaling.original_max_position_embeddings", "missing")
                }
                guard hi > lo else { throw fail("\(tp).rope_scaling.high_freq_factor", "must exceed low_freq_factor") }
                scaling = .llama3(factor: Float(f), lowFreqFactor: Float(lo), highFreqFactor: Float(hi), originalMaxPositions: orig)
            default:
                throw fail("\(tp).rope_scaling.rope_type", "\"\(kind)\" is not supported (expected \"llama3\" or \"default\")")
            }
        }
        let text = TextModelSpec(
            hiddenSize: t.hiddenSize, numLayers: t.numHiddenLayers, numHeads: t.numAttentionHeads, numKVHeads: kv,
            headDim: headDim, intermediateSize: t.intermediateSize, rmsNormEps: Float(t.rmsNormEps ?? 1e-6),
            ropeTheta: Float(t.ropeTheta ?? 10000), ropeScaling: scaling, vocabSize: t.vocabSize,
            tieWordEmbeddings: t.tieWordEmbeddings ?? false, bosTokenId: t.bosTokenId,
            eosTokenIds: t.eosTokenId?.values ?? [], maxPositionEmbeddings: t.maxPositionEmbeddings ?? 2048,
            attentionBias: t.attentionBias ?? false, mlpBias: t.mlpBias ?? false)

        let maskChannels = config.maskPathEmbeddingOutChannels ?? embed
        guard maskChannels == embed else {
            throw fail("mask_path_embedding_out_channels", "\(maskChannels) differs from the vision tower width \(embed)")
        }
        let kernel = config.kernelSize?.values ?? [patch]
        guard kernel.allSatisfy({ $0 == kernel[0] }), kernel[0] > 0 else { throw fail("kernel_size", "must be square and positive") }
        guard kernel[0] == patch else { throw fail("kernel_size", "\(kernel[0]) differs from the patch size \(patch)") }
        let prompts = config.promptNumbers ?? 5
        try check("prompt_numbers", prompts, atMost: 1024)
        let crops = config.cropTokensIds ?? [128004, 128005, 128008, 128010, 128011]
        guard crops.count >= prompts else { throw fail("crop_tokens_ids", "has \(crops.count) ids for \(prompts) prompts") }
        for (i, id) in crops.enumerated() where id < 0 || id >= t.vocabSize {
            throw fail("crop_tokens_ids[\(i)]", "\(id) is outside the vocabulary (\(t.vocabSize))")
        }
        let pooling = m.projectorPoolingRatio ?? 2
        guard pooling > 0, vision.gridHeight % pooling == 0, vision.gridWidth % pooling == 0 else {
            throw fail("mllm_config.projector_pooling_ratio", "\(pooling) does not divide the \(vision.gridHeight)×\(vision.gridWidth) grid")
        }
        guard let imageToken = m.imageTokenId else { throw fail("mllm_config.image_token_id", "missing") }
        guard imageToken >= 0 && imageToken < t.vocabSize else {
            throw fail("mllm_config.image_token_id", "\(imageToken) is outside the vocabulary (\(t.vocabSize))")
        }
        self.vision = vision
        self.text = text
        self.maskEmbedChannels = maskChannels
        self.maskKernelSize = kernel[0]
        self.promptNumbers = prompts
        self.cropTokenIds = Array(crops.prefix(prompts))
        self.projectorPoolingRatio = pooling
        self.visionUseClsToken = m.visionUseClsToken ?? vision.classToken
        self.imageTokenId = imageToken
        self.videoTokenId = m.videoTokenId
    }
}

extension TextModelSpec {
    /// GAR-1B's language model (Llama-3.2-1B as GAR-1B's config.json sets it up; GAR-SPEC §7): the
    /// layer shape `gar bench ops` times without a checkpoint.
    public static let gar1B = TextModelSpec(
        hiddenSize: 2048, numLayers: 16, numHeads: 32, numKVHeads: 8, headDim: 64, intermediateSize: 8192, rmsNormEps: 1e-5,
        ropeTheta: 500000, ropeScaling: .llama3(factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192),
        vocabSize: 128262, tieWordEmbeddings: true, bosTokenId: 128000, eosTokenIds: [128001, 128009], maxPositionEmbeddings: 11520,
        attentionBias: false, mlpBias: false)
}
