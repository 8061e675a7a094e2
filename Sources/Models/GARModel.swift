// The GAR model (GAR hf_models/modeling_gar.py GARModel; GAR-SPEC §1, §4.2, §6): a Perception
// Encoder with GAR's mask patch embedding, the PerceptionLM projector, the Llama decoder, and the
// glue between them:
//
//   mask embedding   Conv2d(3→D_v, k = s = P, no bias) of the binary union mask, added to the patch
//                    tokens. The mask's 3 channels are identical, so the kernel is summed over them
//                    once at load: W_eff [D_v, P·P]; per patch, the mask pixels (0/1) times W_eff.
//   image features   projector(tower(tile)) per tile, [256, D] each (CLS dropped).
//   assembly         token embeddings; the <|image|> run takes the tile features in order.
//   feature replay   each 256-token crop span is overwritten by a 16×16 RoI-Align (torchvision,
//                    aligned, 2×2 samples) of the post-projector features:
//                      image mode: over the merged grid of the non-thumbnail tiles, with the
//                        reference's double 1/28 box scaling (GAR-SPEC §6.3) by default;
//                      video mode: over that frame's own 16×16 map.
//
// Loading is strict: every tensor of the checkpoint must be used (or deliberately ignored) and
// every expected one present with its shape; one error lists all problems by name.
import Checkpoints
import Foundation
import Tensors
import Tokenizers

public final class GARModel: Sendable {
    public let directory: String
    public let spec: GARSpec
    public let preprocessor: PreprocessorConfig.Resolved
    public let generationConfig: GenerationConfig?
    public let tokenizer: Tokenizer
    public let imageProcessor: ImageProcessor
    public let prompts: PromptBuilder
    /// Seconds spent in `load`.
    public let loadSeconds: Double

    let maskEmbed: LinearLayer        // [D_v, P·P], summed over the 3 input channels
    /// The precision the weight matrices were packed for.
    public let precision: Precision
    let encoder: PerceptionEncoder
    let projector: Projector
    let decoder: LlamaDecoder

    /// Tokens each tile contributes to the prompt (256 for GAR).
    public var tokensPerTile: Int { projector.outputTokens }
    /// LLM width.
    public var textWidth: Int { spec.text.hiddenSize }
    /// Bytes of weights held in memory.
    public var weightBytes: Int {
        maskEmbed.bytes + encoder.weightBytes + projector.weightBytes + decoder.weightBytes
    }

    /// The ids generation stops on by default: the tokenizer's eos, as every GAR demo and eval
    /// script passes `eos_token_id=tokenizer.eos_token_id` (GAR-SPEC §7.2).
    public var defaultStopTokens: Set<Int> {
        if let eos = tokenizer.eosID { return [eos] }
        return Set(spec.text.eosTokenIds)
    }

    /// Every eos id the checkpoint declares (tokenizer, generation_config.json, text config).
    public var allStopTokens: Set<Int> {
        var s = defaultStopTokens
        s.formUnion(spec.text.eosTokenIds)
        s.formUnion(generationConfig?.eosTokenIds ?? [])
        return s
    }

    /// The kernels the weight matrix products run on, e.g. "oneDNN matmul brg:avx512_core_bf16
    /// (bf16, f32 accumulation)", for `--verbose` and benchmark reports.
    public var kernels: String {
        let vision = encoder.blocks.first?.qkv.weight.kernelName ?? projector.linear1.weight.kernelName
        let llm = decoder.layers.first?.qkv.weight.kernelName ?? decoder.head.weight.kernelName
        let isa = "; oneDNN ISA \(CPUFeatures.dnnlISA)"
        return "vision: \(vision); llm: \(llm); KV cache \(decoder.kvStorage.rawValue)\(isa)"
    }

    /// Loads a GAR checkpoint directory (config.json, preprocessor_config.json, tokenizer files,
    /// chat template, model.safetensors or shards; generation_config.json if present), packing
    /// the weight matrices for `precision` (`.f32`: the exact path).
    /// `kvStorage`: the decoder's KV cache element type; nil = `KVStorage.default(for: precision)`.
    public static func load(directory: String, precision: Precision = .f32, kvStorage: KVStorage? = nil) throws -> GARModel {
        try GARModel(directory: directory, precision: precision, kvStorage: kvStorage)
    }

    init(directory: String, precision: Precision, kvStorage: KVStorage? = nil) throws {
        let start = Date()
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw ModelError.modelFiles(path: directory, problem: "no such model directory")
        }
        let dirURL = URL(fileURLWithPath: directory)
        for required in ["config.json", "preprocessor_config.json", "tokenizer.json"] {
            guard fm.fileExists(atPath: dirURL.appendingPathComponent(required).path) else {
                throw ModelError.modelFiles(path: directory, problem: "missing \(required)")
            }
        }
        self.directory = directory
        let (_, spec) = try GARConfig.load(directory)
        self.spec = spec
        preprocessor = try PreprocessorConfig.load(directory)
        generationConfig = try GenerationConfig.loadIfPresent(directory)
        tokenizer = try Tokenizer.load(directory: dirURL)
        imageProcessor = ImageProcessor(preprocessor)

        let v = spec.vision
        guard preprocessor.tileSize == v.imageHeight && preprocessor.tileSize == v.imageWidth else {
            throw ModelError.modelFiles(path: directory, problem: "preprocessor_config.json tile_size \(preprocessor.tileSize) differs from the vision tower's \(v.imageWidth)×\(v.imageHeight) input")
        }
        if let tokImage = tokenizer.imageTokenID, tokImage != spec.imageTokenId {
            throw ModelError.modelFiles(path: directory, problem: "config.json image_token_id \(spec.imageTokenId) differs from the tokenizer's image token \(tokImage)")
        }
        guard tokenizer.vocabSize <= spec.text.vocabSize else {
            throw ModelError.modelFiles(path: directory, problem: "the tokenizer has \(tokenizer.vocabSize) ids but the model's vocabulary is \(spec.text.vocabSize)")
        }
        // The chat template must be the PerceptionLM one (ChatTemplate.load refuses anything else).
        let chat = try ChatTemplate.load(directory: dirURL, tokenizer: tokenizer)
        let grid = v.gridHeight
        let pooled = (grid / spec.projectorPoolingRatio) * (v.gridWidth / spec.projectorPoolingRatio)
        prompts = try PromptBuilder(tokenizer: tokenizer, cropTokenIDs: spec.cropTokenIds, imageTokenID: spec.imageTokenId,
                                    tokensPerTile: pooled, chatTemplate: { text in
                                        try chat.render(messages: [.user([.text(text)])], addGenerationPrompt: true)
                                    })

        let checkpoint = try Checkpoint(directory: directory)
        let loader = WeightLoader(checkpoint)
        let root = loader.scope("")
        let keys = GARKeySchema(spec: spec)
        let P = spec.maskKernelSize, Dv = v.embedDim
        let maskWeight = try root.floats(keys.maskEmbedding.weight)
        self.precision = precision
        maskEmbed = LinearLayer(outFeatures: Dv, inFeatures: P * P,
                                weight: .f32(GARModel.sumChannels(maskWeight, outChannels: Dv, kernelArea: P * P)), precision: precision)
        encoder = try PerceptionEncoder(spec: v, keys: keys.vision, weights: root, precision: precision)
        projector = try Projector(keys: keys.projector, grid: grid, pooling: spec.projectorPoolingRatio, weights: root, precision: precision)
        decoder = try LlamaDecoder(spec: spec.text, keys: keys.text, weights: root, precision: precision, kvStorage: kvStorage)
        try loader.finish()
        loadSeconds = Date().timeIntervalSince(start)
    }

    /// W_eff[d, k] = W[d, 0, k] + W[d, 1, k] + W[d, 2, k] (the mask's channels are equal).
    static func sumChannels(_ w: [Float], outChannels D: Int, kernelArea K: Int) -> [Float] {
        var out = [Float](repeating: 0, count: D * K)
        for d in 0 ..< D {
            for k in 0 ..< K { out[d * K + k] = w[(d * 3) * K + k] + w[(d * 3 + 1) * K + k] + w[(d * 3 + 2) * K + k] }
        }
        return out
    }

    // MARK: image features

    /// Default number of tiles per tower batch (GAR-1B: ~40 MB of activations per tile).
    public static let defaultTileBatch = 4

    /// Projected features `[T·256, D]` of tiles (tile-major, 16×16 row-major within a tile).
    public func imageFeatures(_ tiles: [TileInput], tileBatch: Int = GARModel.defaultTileBatch,
                              tap: (any ActivationTap)? = nil, firstTile: Int = 0) -> Tensor {
        let v = spec.vision
        let S = v.imageHeight, P = v.patchSize, G2 = v.numPatches, Dv = v.embedDim, N = encoder.tokensPerTile
        let D = textWidth, per = tokensPerTile
        let B = max(1, min(tileBatch, tiles.count))
        let scratch = PerceptionEncoder.Scratch(spec: v, tiles: B)
        let pixels = FloatBuffer(count: B * 3 * S * S)
        let maskCols = FloatBuffer(count: G2 * P * P)
        let maskOut = FloatBuffer(count: G2 * Dv)
        let projA = FloatBuffer(count: G2 * D), projB = FloatBuffer(count: G2 * D)
        var out = Tensor(shape: [tiles.count * per, D])
        out.withUnsafeMutableBufferPointer { ob in
            var t0 = 0
            while t0 < tiles.count {
                let batch = Array(tiles[t0 ..< min(tiles.count, t0 + B)])
                for (b, tile) in batch.enumerated() {
                    precondition(tile.rgb.width == S && tile.rgb.height == S && tile.mask.count == S * S, "imageFeatures: tile size")
                    imageProcessor.normalize(tile.rgb, into: pixels.pointer + b * 3 * S * S)
                }
                encoder.forward(pixels: pixels.pointer, tiles: batch.count, scratch: scratch, addToPatches: { patches in
                    for (b, tile) in batch.enumerated() {
                        self.addMaskEmbedding(tile.mask, to: patches + b * G2 * Dv, cols: maskCols, scratch: maskOut,
                                              tap: tap, tileIndex: firstTile + t0 + b)
                    }
                }, tap: tap, firstTile: firstTile + t0)
                for b in 0 ..< batch.count {
                    let tokens = scratch.x.pointer + (b * N + v.numPrefixTokens) * Dv
                    projector.forward(tokens: tokens, out: ob.baseAddress! + (t0 + b) * per * D, a: projA.pointer, b: projB.pointer)
                }
                t0 += batch.count
            }
        }
        out.withUnsafeBufferPointer { tap.record("image_features", shape: [tiles.count, per, D], $0.baseAddress!, count: $0.count) }
        return out
    }

    /// GAR's mask term for one tile: `patches[p] += Σ_{mask pixels of patch p} W_eff[:, pixel]`,
    /// as im2col of the 0/1 mask `[G², P·P]` times `W_effᵀ`.
    private func addMaskEmbedding(_ mask: [UInt8], to patches: UnsafeMutablePointer<Float>, cols: FloatBuffer, scratch: FloatBuffer,
                                  tap: (any ActivationTap)?, tileIndex: Int) {
        let v = spec.vision
        let S = v.imageWidth, P = v.patchSize, G = v.gridWidth, G2 = v.numPatches, Dv = v.embedDim, K = P * P
        let name = "vision.tile\(tileIndex).mask_embeds"
        let tapped = tap?.wants(name) ?? false
        var any = false
        mask.withUnsafeBufferPointer { m in
            for p in 0 ..< G2 {
                let r = p / G, c = p % G
                let dst = cols.pointer + p * K
                for kh in 0 ..< P {
                    let src = (r * P + kh) * S + c * P
                    for kw in 0 ..< P {
                        let bit = m[src + kw] != 0
                        dst[kh * P + kw] = bit ? 1 : 0
                        any = any || bit
                    }
                }
            }
        }
        guard any || tapped else { return }   // an empty mask adds exactly zero
        maskEmbed.apply(cols.pointer, rows: G2, out: scratch.pointer, scratch: UnsafeMutableBufferPointer(start: nil, count: 0))
        tap.record(name, shape: [G2, Dv], scratch.pointer, count: G2 * Dv)
        Kernels.addInPlace(UnsafeMutableBufferPointer(start: patches, count: G2 * Dv), UnsafeBufferPointer(start: scratch.pointer, count: G2 * Dv))
    }

    // MARK: feature replay

    /// The feature map a span reads: the merged non-thumbnail grid (image mode) or one frame's
    /// 16×16 map (video mode), channels last `[h·w, D]`.
    struct FeatureMap {
        var values: [Float]
        var height: Int
        var width: Int
    }

    /// Image mode: tiles 1… of `features` placed at their grid positions (GAR `_merge`).
    func mergedMap(_ features: Tensor, grid: TileGrid) -> FeatureMap {
        let D = textWidth, g = spec.vision.gridWidth / spec.projectorPoolingRatio
        let h = g * grid.rows, w = g * grid.columns
        var map = [Float](repeating: 0, count: h * w * D)
        features.withUnsafeBufferPointer { fb in
            map.withUnsafeMutableBufferPointer { mb in
                for r in 0 ..< grid.rows {
                    for c in 0 ..< grid.columns {
                        let tile = 1 + r * grid.columns + c
                        for i in 0 ..< g {
                            let src = fb.baseAddress! + (tile * g * g + i * g) * D
                            let dst = mb.baseAddress! + ((r * g + i) * w + c * g) * D
                            dst.update(from: src, count: g * D)
                        }
                    }
                }
            }
        }
        return FeatureMap(values: map, height: h, width: w)
    }

    /// Video mode: frame `f`'s own map.
    func frameMap(_ features: Tensor, frame f: Int) -> FeatureMap {
        let D = textWidth, per = tokensPerTile, g = spec.vision.gridWidth / spec.projectorPoolingRatio
        return FeatureMap(values: Array(features.storage[(f * per * D) ..< ((f + 1) * per * D)]), height: g, width: g)
    }

    /// The RoI-Align box and spatial scale for a normalised box on an `h × w` map. Reference
    /// (default): `orig = 28·size`, `s = w / orig = 1/28`, the box is brought to feature units
    /// (`x1·orig_w·s`, in Double, then Float) and roi_align scales it by `s` AGAIN (GAR-SPEC §6.3).
    /// `corrected`: the box in feature units with scale 1 (samples the region itself).
    static func roiBox(_ box: NormalizedBox, height h: Int, width w: Int, corrected: Bool) -> (box: RoIBox, scale: Float) {
        let origW = Double(w * 28), origH = Double(h * 28)
        let s = Double(w) / origW
        let rb = RoIBox(x1: Float(box.x1 * origW * s), y1: Float(box.y1 * origH * s),
                        x2: Float(box.x2 * origW * s), y2: Float(box.y2 * origH * s))
        return (rb, corrected ? 1 : Float(s))
    }

    /// 256 replay vectors `[16·16, D]` of one box over a map.
    func replay(_ map: FeatureMap, box: NormalizedBox, corrected: Bool, into out: UnsafeMutablePointer<Float>,
                tap: (any ActivationTap)?, index: Int) {
        let D = textWidth, g = spec.vision.gridWidth / spec.projectorPoolingRatio
        let (rb, scale) = GARModel.roiBox(box, height: map.height, width: map.width, corrected: corrected)
        let roi: [Float] = [0, rb.x1, rb.y1, rb.x2, rb.y2]
        roi.withUnsafeBufferPointer { tap.record("replay.\(index).roi", shape: [5], $0.baseAddress!, count: 5) }
        let params = RoIAlignParameters(outHeight: g, outWidth: g, spatialScale: scale, samplingRatio: 2, aligned: true)
        map.values.withUnsafeBufferPointer { mb in
            Kernels.roiAlign(features: mb, height: map.height, width: map.width, channels: D, box: rb, parameters: params,
                             out: UnsafeMutableBufferPointer(start: out, count: g * g * D))
        }
        tap.record("replay.\(index).features", shape: [g * g, D], out, count: g * g * D)
    }

    // MARK: embedding assembly

    /// The decoder input `[L, D]`: token embeddings, the `<|image|>` run replaced by `features`
    /// (all tiles/frames in order), each span replaced by its replay vectors. `boxes[i]` is the box
    /// of `prompt.spans[i]`.
    func assembleEmbeddings(prompt: PromptLayout, features: Tensor, boxes: [NormalizedBox], grid: TileGrid?,
                            corrected: Bool, tap: (any ActivationTap)?) -> [Float] {
        let D = textWidth, L = prompt.ids.count
        precondition(features.count == prompt.imageTokens * D, "assembleEmbeddings: \(features.count / D) feature rows for \(prompt.imageTokens) image tokens")
        precondition(boxes.count == prompt.spans.count, "assembleEmbeddings: one box per span")
        var embeds = [Float](repeating: 0, count: L * D)
        embeds.withUnsafeMutableBufferPointer { eb in
            let e = eb.baseAddress!
            decoder.embed(prompt.ids, into: e)
            features.withUnsafeBufferPointer { (e + prompt.imageStart * D).update(from: $0.baseAddress!, count: $0.count) }
            let merged = grid.map { mergedMap(features, grid: $0) }
            for (i, span) in prompt.spans.enumerated() {
                let map: FeatureMap
                if let f = span.frame {
                    map = frameMap(features, frame: f)
                } else {
                    guard let merged else { preconditionFailure("assembleEmbeddings: image-mode span without a tile grid") }
                    map = merged
                }
                replay(map, box: boxes[i], corrected: corrected, into: e + span.start * D, tap: tap, index: i)
            }
            tap.record("inputs_embeds", shape: [L, D], e, count: L * D)
        }
        return embeds
    }
}

extension PerceptionEncoder {
    /// Bytes of weights held.
    var weightBytes: Int {
        var floats = (clsToken?.count ?? 0) + (posEmbed?.count ?? 0) + (normPre?.w.count ?? 0) * 2 + (normPost?.w.count ?? 0) * 2
        var n = patchEmbed.bytes
        for b in blocks {
            floats += b.norm1.w.count * 2 + b.norm2.w.count * 2 + (b.gamma1?.count ?? 0) + (b.gamma2?.count ?? 0)
            n += b.qkv.bytes + b.proj.bytes + b.fc1.bytes + b.fc2.bytes
        }
        return n + 4 * floats
    }
}

extension Projector {
    /// Bytes of weights held.
    var weightBytes: Int { linear1.bytes + linear2.bytes }
}
