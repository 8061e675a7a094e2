// config.json of a GAR checkpoint (GAR-SPEC §2): the GAR wrapper, its PerceptionLM
// `mllm_config` with a timm vision tower and a Llama text model. Decoded field by field with
// CodingKeys spelling the Hugging Face names, then resolved into `GARSpec` (all defaults
// applied, sizes checked) — model code reads only the spec.
import Foundation

/// `config.json` as stored (model_type "GAR").
public struct GARConfig: Decodable, Sendable {
    public var modelType: String
    public var promptNumbers: Int?
    public var cropTokensIds: [Int]?
    public var kernelSize: IntOrList?
    public var maskPathEmbeddingOutChannels: Int?
    public var mllmConfig: PerceptionLMConfig

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case promptNumbers = "prompt_numbers"
        case cropTokensIds = "crop_tokens_ids"
        case kernelSize = "kernel_size"
        case maskPathEmbeddingOutChannels = "mask_path_embedding_out_channels"
        case mllmConfig = "mllm_config"
    }

    /// Reads `config.json` from a checkpoint directory (or a file path) and resolves it.
    public static func load(_ path: String) throws -> (config: GARConfig, spec: GARSpec) {
        let file = ConfigFile.resolveFile(path, defaultName: "config.json")
        let config = try ConfigFile.decode(GARConfig.self, path: file)
        return (config, try GARSpec(config, fileName: file))
    }
}

/// `mllm_config` (transformers PerceptionLMConfig).
public struct PerceptionLMConfig: Decodable, Sendable {
    public var projectorPoolingRatio: Int?
    public var visionUseClsToken: Bool?
    public var imageTokenId: Int?
    public var videoTokenId: Int?
    public var visionConfig: TimmVisionConfig
    public var textConfig: LlamaTextConfig

    enum CodingKeys: String, CodingKey {
        case projectorPoolingRatio = "projector_pooling_ratio"
        case visionUseClsToken = "vision_use_cls_token"
        case imageTokenId = "image_token_id"
        case videoTokenId = "video_token_id"
        case visionConfig = "vision_config"
        case textConfig = "text_config"
    }
}

/// `vision_config` (transformers TimmWrapperConfig).
public struct TimmVisionConfig: Decodable, Sendable {
    public var architecture: String
    public var modelArgs: TimmModelArgs?
    public var numFeatures: Int?

    enum CodingKeys: String, CodingKey {
        case architecture
        case modelArgs = "model_args"
        case numFeatures = "num_features"
    }
}

/// `vision_config.model_args`: keyword overrides passed to the timm registry function.
public struct TimmModelArgs: Decodable, Sendable {
    public var embedDim: Int?
    public var depth: Int?
    public var numHeads: Int?
    public var mlpRatio: Double?
    public var patchSize: Int?
    public var imgSize: IntOrList?
    public var classToken: Bool?
    public var globalPool: String?
    public var usePreTransformerNorm: Bool?
    public var usePostTransformerNorm: Bool?
    public var useFcNorm: Bool?
    public var initValues: Double?
    public var refFeatShape: IntOrList?
    public var ropeGridOffset: Double?
    public var ropeGridIndexing: String?
    public var ropeTemperature: Double?
    public var useRotPosEmb: Bool?
    public var useAbsPosEmb: Bool?
    public var qkvBias: Bool?
    public var numRegTokens: Int?
    public var dynamicImgSize: Bool?

    enum CodingKeys: String, CodingKey {
        case embedDim = "embed_dim"
        case depth
        case numHeads = "num_heads"
        case mlpRatio = "mlp_ratio"
        case patchSize = "patch_size"
        case imgSize = "img_size"
        case classToken = "class_token"
        case globalPool = "global_pool"
        case usePreTransformerNorm = "use_pre_transformer_norm"
        case usePostTransformerNorm = "use_post_transformer_norm"
        case useFcNorm = "use_fc_norm"
        case initValues = "init_values"
        case refFeatShape = "ref_feat_shape"
        case ropeGridOffset = "rope_grid_offset"
        case ropeGridIndexing = "rope_grid_indexing"
        case ropeTemperature = "rope_temperature"
        case useRotPosEmb = "use_rot_pos_emb"
        case useAbsPosEmb = "use_abs_pos_emb"
        case qkvBias = "qkv_bias"
        case numRegTokens = "num_reg_tokens"
        case dynamicImgSize = "dynamic_img_size"
    }
}

/// `text_config` (transformers LlamaConfig). Optional fields take LlamaConfig's defaults.
public struct LlamaTextConfig: Decodable, Sendable {
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int?
    public var headDim: Int?
    public var intermediateSize: Int
    public var rmsNormEps: Double?
    public var ropeTheta: Double?
    public var ropeScaling: RopeScalingConfig?
    public var vocabSize: Int
    public var tieWordEmbeddings: Bool?
    public var bosTokenId: Int?
    public var eosTokenId: IntOrList?
    public var padTokenId: Int?
    public var maxPositionEmbeddings: Int?
    public var hiddenAct: String?
    public var attentionBias: Bool?
    public var mlpBias: Bool?

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case intermediateSize = "intermediate_size"
        case rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta"
        case ropeScaling = "rope_scaling"
        case vocabSize = "vocab_size"
        case tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenId = "bos_token_id"
        case eosTokenId = "eos_token_id"
        case padTokenId = "pad_token_id"
        case maxPositionEmbeddings = "max_position_embeddings"
        case hiddenAct = "hidden_act"
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
    }
}

/// `rope_scaling` of a Llama config.
public struct RopeScalingConfig: Decodable, Sendable, Equatable {
    public var ropeType: String?
    public var type: String?
    public var factor: Double?
    public var lowFreqFactor: Double?
    public var highFreqFactor: Double?
    public var originalMaxPositionEmbeddings: Int?

    enum CodingKeys: String, CodingKey {
        case ropeType = "rope_type"
        case type
        case factor
        case lowFreqFactor = "low_freq_factor"
        case highFreqFactor = "high_freq_factor"
        case originalMaxPositionEmbeddings = "original_max_position_embeddings"
    }
}
