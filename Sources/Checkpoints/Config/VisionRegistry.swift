// The timm 1.0.19 registry defaults (timm/models/eva.py) for the Perception Encoder
// architectures GAR can name in `mllm_config.vision_config.architecture`. timm builds the tower
// as `create_model(architecture, **model_args)`: every field below comes from the registry
// function unless `model_args` overrides it. What GAR's own config.json carries (GAR-SPEC §2.3):
// embed_dim, depth, img_size, global_pool, use_post_transformer_norm, init_values,
// ref_feat_shape. What comes from the registry for GAR-1B (vit_pe_core_large_patch14_336):
// patch_size 14, num_heads 16, mlp_ratio 4.0, class token (Eva default True),
// use_pre_transformer_norm True, use_rot_pos_emb True, rope_grid_offset 1.0,
// rope_grid_indexing 'xy', rope temperature 10000 (Eva default), qkv bias (Eva default True),
// LayerNorm eps 1e-5 (norm_layer partial, not expressible in JSON). num_heads is NOT derived
// from embed_dim: both L and G use 16 heads (head dim 64 and 96).

/// Registry defaults of one timm architecture (only the fields GAR's tower depends on).
struct TimmPerceptionEncoderDefaults {
    var patchSize: Int
    var embedDim: Int
    var depth: Int
    var numHeads: Int
    var mlpRatio: Double
    var classToken: Bool
    var refFeatShape: [Int]?
    var ropeGridOffset: Double
    var ropeGridIndexing: String
    var usePreTransformerNorm: Bool
    var usePostTransformerNorm: Bool?
    var useFcNorm: Bool?
    var initValues: Double?
    var globalPool: String
    /// Input size of the architecture's pretrained config (used when model_args has no img_size).
    var imgSize: Int

    static let registry: [String: TimmPerceptionEncoderDefaults] = [
        "vit_pe_core_large_patch14_336": .init(
            patchSize: 14, embedDim: 1024, depth: 24, numHeads: 16, mlpRatio: 4.0, classToken: true,
            refFeatShape: [24, 24], ropeGridOffset: 1.0, ropeGridIndexing: "xy", usePreTransformerNorm: true,
            usePostTransformerNorm: nil, useFcNorm: nil, initValues: nil, globalPool: "map", imgSize: 336),
        "vit_pe_core_gigantic_patch14_448": .init(
            patchSize: 14, embedDim: 1536, depth: 50, numHeads: 16, mlpRatio: 8960.0 / 1536.0, classToken: false,
            refFeatShape: [32, 32], ropeGridOffset: 0.0, ropeGridIndexing: "xy", usePreTransformerNorm: true,
            usePostTransformerNorm: nil, useFcNorm: nil, initValues: nil, globalPool: "map", imgSize: 448),
        "vit_pe_lang_large_patch14_448": .init(
            patchSize: 14, embedDim: 1024, depth: 23, numHeads: 16, mlpRatio: 4.0, classToken: true,
            refFeatShape: [32, 32], ropeGridOffset: 1.0, ropeGridIndexing: "xy", usePreTransformerNorm: true,
            usePostTransformerNorm: false, useFcNorm: false, initValues: 0.1, globalPool: "avg", imgSize: 448),
        "vit_pe_lang_gigantic_patch14_448": .init(
            patchSize: 14, embedDim: 1536, depth: 47, numHeads: 16, mlpRatio: 8960.0 / 1536.0, classToken: false,
            refFeatShape: [32, 32], ropeGridOffset: 0.0, ropeGridIndexing: "xy", usePreTransformerNorm: true,
            usePostTransformerNorm: false, useFcNorm: false, initValues: 0.1, globalPool: "avg", imgSize: 448),
    ]
}
