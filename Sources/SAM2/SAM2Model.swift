// SAM 2.1 in image mode (transformers `Sam2Model`), loaded strictly from a Hugging Face
// checkpoint directory (config.json + model.safetensors, the keys `Sam2Model.save_pretrained`
// writes). Every key is used, or ignored here with its reason.
//
//     let model = try SAM2Model.load(directory: "sam2.1-hiera-tiny")
//     let features = model.encode(pixelValues)            // once per image
//     let result = model.predict(features, points: [...], box: nil, maskPrompt: nil, multimaskOutput: true)
import Checkpoints
import Foundation
import Tensors

/// The per-image part: computed once, reused by every prompt on that image.
public struct SAM2ImageFeatures: Sendable {
    /// `[E·E, C]` image embedding (FPN level 2 + the no-memory embedding).
    public var embedding: Tensor
    /// `[(4E)², C/8]` and `[(2E)², C/4]`: conv_s0(FPN level 0), conv_s1(FPN level 1).
    public var highResolution0: Tensor
    public var highResolution1: Tensor
}

/// Masks and scores for one prompt.
public struct SAM2Prediction: Sendable {
    /// `[k, 4E·4E]` low-res mask logits (k = 3 with multimask output, else 1).
    public var lowResMasks: Tensor
    public var iouScores: [Float]
    public var objectScoreLogit: Float
    /// All decoder outputs before the multimask selection.
    public var decoder: SAM2DecoderOutput
}

public final class SAM2Model: Sendable {
    public let config: SAM2Config
    let hiera: HieraEncoder
    let neck: FPNNeck
    let promptEncoder: PromptEncoder
    let maskDecoder: MaskDecoder
    let positional: FourierPositionalEmbedding
    let noMemoryEmbedding: Tensor
    /// `[E·E, C]` positional embedding of the image-embedding grid (fixed per model).
    let imagePositionalEmbedding: Tensor

    /// Checkpoint keys of SAM 2's video mode (memory encoder, memory attention, object pointers,
    /// occlusion embedding): present in the official checkpoints, not used in image mode.
    /// Same list as transformers' `Sam2Model._keys_to_ignore_on_load_unexpected`.
    static let videoModePrefixes = ["memory_", "mask_downsample", "object_pointer_proj", "temporal_positional_encoding_projection_layer",
                                    "no_memory_positional_encoding", "no_object_pointer", "occlusion_spatial_embedding_parameter"]

    /// The precision weight matrices are multiplied in (fixed at load).
    public let precision: Precision

    /// The precision for SAM 2 on the running CPU: bf16 where the CPU has native bf16 dot products
    /// (`CPUFeatures.hasNativeBF16`: the hiera-tiny encoder took 1.7× less CPU time than in f32 on
    /// the development machine, and bf16 masks agree with the reference's — README "Precision and
    /// speed"), else f32.
    public static var defaultPrecision: Precision { CPUFeatures.hasNativeBF16 ? .bf16 : .f32 }

    /// Loads `directory` (config.json + model.safetensors); weight matrices are packed for
    /// `precision` (f32: the exact path the goldens check).
    public static func load(directory: String, precision: Precision = .f32) throws -> SAM2Model {
        let config = try SAM2Config.load(directory: directory)
        let checkpoint = try Checkpoint(directory: directory)
        let loader = WeightLoader(checkpoint)
        let model = try SAM2Model(config: config, SAM2Weights(weights: loader.scope(""), precision: precision))
        // Video-mode weights: not used in image mode (phase 2 of issue 13 reads them).
        for name in checkpoint.names where videoModePrefixes.contains(where: { name.hasPrefix($0) }) {
            loader.scope("").ignore(name)
        }
        try loader.finish()
        return model
    }

    init(config: SAM2Config, _ w: SAM2Weights) throws {
        self.config = config
        precision = w.precision
        let v = config.visionConfig
        hiera = try HieraEncoder(w.scope("vision_encoder.backbone"), config: v.backboneConfig)
        neck = try FPNNeck(w.scope("vision_encoder.neck"), config: v)
        let p = config.promptEncoderConfig
        positional = FourierPositionalEmbedding(gaussian: try w.take("shared_image_embedding.positional_embedding", shape: [2, p.hiddenSize / 2]))
        promptEncoder = try PromptEncoder(w.scope("prompt_encoder"), config: p, positional: positional)
        maskDecoder = try MaskDecoder(w.scope("mask_decoder"), config: config.maskDecoderConfig)
        noMemoryEmbedding = try w.take("no_memory_embedding", shape: [1, 1, v.fpnHiddenSize]).reshaped([v.fpnHiddenSize])
        imagePositionalEmbedding = positional.grid(config.embeddingSize)
    }

    /// Image encoder + neck: `pixelValues: [3, S, S]` (see `SAM2Processing.preprocess`).
    public func encode(_ pixelValues: Tensor, tap: SAM2Tap? = nil) -> SAM2ImageFeatures {
        let stages = hiera(pixelValues, tap: tap)
        let levels = neck(stages, tap: tap)
        var embedding = levels[2].features
        embedding.withUnsafeMutableBufferPointer { e in
            noMemoryEmbedding.withUnsafeBufferPointer { Kernels.addRowVector(e, $0, rows: levels[2].features.rowCount, cols: $0.count) }
        }
        let features = SAM2ImageFeatures(embedding: embedding, highResolution0: maskDecoder.convS0(levels[0].features),
                                         highResolution1: maskDecoder.convS1(levels[1].features))
        tap?("image_embeddings.0", features.highResolution0)
        tap?("image_embeddings.1", features.highResolution1)
        tap?("image_embeddings.2", features.embedding)
        tap?("image_positional_embeddings", imagePositionalEmbedding)
        return features
    }

    /// Prompt → masks. Points and box in model-input coordinates (`SAM2Processing.normalize`);
    /// `maskPrompt`: `[4E, 4E]` low-res logits (e.g. a previous prediction's `lowResMasks` row).
    public func predict(_ features: SAM2ImageFeatures, points: [SAM2Point] = [], box: SAM2Box? = nil, maskPrompt: Tensor? = nil,
                        multimaskOutput: Bool = true, tap: SAM2Tap? = nil) throws -> SAM2Prediction {
        let M = promptEncoder.maskInputSize
        if let maskPrompt, maskPrompt.count != M * M {
            throw SAM2Error.invalidInput("mask prompt has \(maskPrompt.count) values, expected \(M)×\(M) low-res logits")
        }
        for p in points where ![1, 0, -1, -10].contains(p.label) || p.label >= promptEncoder.pointEmbed.shape[0] {
            throw SAM2Error.invalidInput("point label \(p.label) (1 positive, 0 negative)")
        }
        let sparse = promptEncoder.sparse(points: points, box: box)
        let dense = promptEncoder.dense(mask: maskPrompt)
        tap?("sparse_embeddings", sparse)
        tap?("dense_embeddings", dense)
        let out = maskDecoder(image: features.embedding, imagePE: imagePositionalEmbedding, sparse: sparse, dense: dense,
                              featS0: features.highResolution0, featS1: features.highResolution1, side: config.embeddingSize, tap: tap)
        let (masks, iou) = maskDecoder.select(out, multimaskOutput: multimaskOutput)
        return SAM2Prediction(lowResMasks: masks, iouScores: iou, objectScoreLogit: out.objectScoreLogit, decoder: out)
    }
}
