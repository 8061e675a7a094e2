// SAM 2.1 configuration as transformers' `Sam2Config.save_pretrained` writes config.json
// (model_type "sam2"): `vision_config` (Sam2VisionConfig with its `backbone_config`, a
// Sam2HieraDetConfig), `prompt_encoder_config`, `mask_decoder_config`. Field names are the JSON
// keys in camel case. `validate` rejects what this implementation does not do, in one line.
import Checkpoints
import Foundation
import Tensors

public struct SAM2Config: Decodable, Sendable {
    public struct Hiera: Decodable, Sendable {
        public var hiddenSize: Int
        public var numChannels: Int
        public var imageSize: [Int]
        public var patchKernelSize: [Int]
        public var patchStride: [Int]
        public var patchPadding: [Int]
        public var queryStride: [Int]
        public var windowPositionalEmbeddingBackgroundSize: [Int]
        public var numQueryPoolStages: Int
        public var blocksPerStage: [Int]
        public var embedDimPerStage: [Int]
        public var numAttentionHeadsPerStage: [Int]
        public var windowSizePerStage: [Int]
        public var globalAttentionBlocks: [Int]
        public var mlpRatio: Double
        public var hiddenAct: String
        public var layerNormEps: Double
    }

    public struct Vision: Decodable, Sendable {
        public var backboneConfig: Hiera
        public var backboneChannelList: [Int]
        public var backboneFeatureSizes: [[Int]]
        public var fpnHiddenSize: Int
        public var fpnKernelSize: Int
        public var fpnStride: Int
        public var fpnPadding: Int
        public var fpnTopDownLevels: [Int]
        public var numFeatureLevels: Int
    }

    public struct PromptEncoder: Decodable, Sendable {
        public var hiddenSize: Int
        public var imageSize: Int
        public var patchSize: Int
        public var maskInputChannels: Int
        public var numPointEmbeddings: Int
        public var hiddenAct: String
        public var layerNormEps: Double
    }

    public struct MaskDecoder: Decodable, Sendable {
        public var hiddenSize: Int
        public var hiddenAct: String
        public var mlpDim: Int
        public var numHiddenLayers: Int
        public var numAttentionHeads: Int
        public var attentionDownsampleRate: Int
        public var numMultimaskOutputs: Int
        public var iouHeadDepth: Int
        public var iouHeadHiddenDim: Int
        public var dynamicMultimaskViaStability: Bool
        public var dynamicMultimaskStabilityDelta: Double
        public var dynamicMultimaskStabilityThresh: Double
    }

    public var modelType: String
    public var visionConfig: Vision
    public var promptEncoderConfig: PromptEncoder
    public var maskDecoderConfig: MaskDecoder

    /// Reads `<directory>/config.json` and validates it.
    public static func load(directory: String) throws -> SAM2Config {
        let path = (directory as NSString).appendingPathComponent("config.json")
        let config = try ConfigFile.decode(SAM2Config.self, path: path, snakeCaseKeys: true)
        try config.validate(file: path)
        return config
    }

    /// The side of the square model input (`prompt_encoder_config.image_size`, 1024 for SAM 2.1).
    public var imageSize: Int { promptEncoderConfig.imageSize }
    /// The side of the image-embedding grid (`image_size / patch_size`, 64 for SAM 2.1).
    public var embeddingSize: Int { promptEncoderConfig.imageSize / promptEncoderConfig.patchSize }

    func validate(file: String) throws {
        func fail(_ problem: String) -> SAM2Error { .unsupportedConfig(file: file, problem: problem) }
        // "sam2_video" (Sam2VideoModel's checkpoints) has the same three sub-configs.
        guard ["sam2", "sam2_video"].contains(modelType) else { throw fail("model_type \"\(modelType)\" is not \"sam2\" or \"sam2_video\"") }
        let h = visionConfig.backboneConfig, v = visionConfig
        let stages = h.blocksPerStage.count
        guard stages > 0, [h.embedDimPerStage.count, h.numAttentionHeadsPerStage.count, h.windowSizePerStage.count].allSatisfy({ $0 == stages }) else {
            throw fail("blocks_per_stage, embed_dim_per_stage, num_attention_heads_per_stage and window_size_per_stage differ in length")
        }
        guard h.embedDimPerStage[0] == h.hiddenSize else { throw fail("embed_dim_per_stage[0] \(h.embedDimPerStage[0]) is not hidden_size \(h.hiddenSize)") }
        guard h.numChannels == 3 else { throw fail("num_channels \(h.numChannels) (RGB only)") }
        for (name, pair) in [("patch_kernel_size", h.patchKernelSize), ("patch_stride", h.patchStride), ("patch_padding", h.patchPadding),
                             ("query_stride", h.queryStride), ("image_size", h.imageSize),
                             ("window_positional_embedding_background_size", h.windowPositionalEmbeddingBackgroundSize)] {
            guard pair.count == 2, pair[0] == pair[1] else { throw fail("\(name) \(pair) is not square") }
        }
        guard h.hiddenAct == "gelu", promptEncoderConfig.hiddenAct == "gelu" else { throw fail("hidden_act must be \"gelu\"") }
        guard v.backboneChannelList == h.embedDimPerStage.reversed() else {
            throw fail("backbone_channel_list \(v.backboneChannelList) is not embed_dim_per_stage reversed")
        }
        guard v.fpnKernelSize == 1, v.fpnStride == 1, v.fpnPadding == 0 else { throw fail("FPN convolutions other than 1×1 stride 1") }
        guard v.numFeatureLevels == 3, stages >= 3 else { throw fail("num_feature_levels \(v.numFeatureLevels) (the mask decoder needs 3)") }
        let d = maskDecoderConfig, p = promptEncoderConfig
        guard d.hiddenSize == v.fpnHiddenSize, p.hiddenSize == v.fpnHiddenSize else {
            throw fail("mask decoder (\(d.hiddenSize)), prompt encoder (\(p.hiddenSize)) and FPN (\(v.fpnHiddenSize)) widths differ")
        }
        guard p.imageSize == h.imageSize[0] else { throw fail("prompt encoder image_size \(p.imageSize) vs backbone image_size \(h.imageSize)") }
        // Stage 0 grid → (num_feature_levels − 1) halvings must land on the embedding grid.
        let grid0 = Kernels.convOutputSize(p.imageSize, kernel: h.patchKernelSize[0], stride: h.patchStride[0], padding: h.patchPadding[0])
        guard grid0 == 4 * embeddingSize, h.queryStride[0] == 2, h.numQueryPoolStages >= 2 else {
            throw fail("stage grids (\(grid0) at stride \(h.patchStride[0]), query stride \(h.queryStride[0])) do not give the \(embeddingSize)² embedding grid")
        }
        guard grid0 % h.windowSizePerStage[0] == 0 else { throw fail("window_size_per_stage[0] \(h.windowSizePerStage[0]) does not tile the \(grid0)² grid") }
        guard d.numHiddenLayers > 0, d.attentionDownsampleRate > 0, (d.hiddenSize / d.attentionDownsampleRate) % d.numAttentionHeads == 0,
              d.hiddenSize % 8 == 0, d.iouHeadDepth >= 2 else { throw fail("mask decoder sizes") }
        guard p.maskInputChannels % 4 == 0, p.numPointEmbeddings >= 4 else { throw fail("prompt encoder sizes") }
    }
}

