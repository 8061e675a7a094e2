// config.json / preprocessor_config.json / generation_config.json decoding and the GAR key
// schema.
import Foundation
import Testing
@testable import Checkpoints
import Tensors

@Suite struct ConfigTests {
    func load(_ json: String) throws -> (GARConfig, GARSpec) {
        let dir = try TempDir()
        try dir.write("config.json", json)
        return try GARConfig.load(dir.url.path)
    }

    /// `message` names the file as "config.json"; the error names it by its path in the directory.
    func expectConfigError(_ json: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let dir = try? TempDir() else { Issue.record("no temp dir", sourceLocation: sourceLocation); return }
        do {
            try dir.write("config.json", json)
            _ = try GARConfig.load(dir.url.path)
            Issue.record("accepted (expected \(message))", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)" == dir.url.path + "/" + message, sourceLocation: sourceLocation)
        }
    }

    @Test func gar1BResolvesRegistryDefaults() throws {
        let (config, spec) = try load(GARConfigParams().json)
        #expect(config.modelType == "GAR")
        let v = spec.vision
        #expect(v.embedDim == 1024 && v.depth == 23 && v.numHeads == 16 && v.headDim == 64 && v.mlpHidden == 4096)
        #expect(v.patchSize == 14 && v.gridHeight == 32 && v.gridWidth == 32 && v.numPatches == 1024)
        #expect(v.classToken && v.numPrefixTokens == 1 && v.ropeGridOffset == 1 && v.ropeGridIndexing == "xy")
        #expect(v.ropeRefFeatShape == [32, 32] && v.usePreTransformerNorm && !v.usePostTransformerNorm && !v.useFcNorm)
        #expect(v.layerScale && v.qkvBias && v.layerNormEps == 1e-5 && v.ropeTemperature == 10000)
        let t = spec.text
        #expect(t.hiddenSize == 2048 && t.numLayers == 16 && t.numHeads == 32 && t.numKVHeads == 8 && t.headDim == 64)
        #expect(t.intermediateSize == 8192 && t.vocabSize == 128262 && t.tieWordEmbeddings && t.eosTokenIds == [128001, 128009])
        #expect(t.ropeScaling == .llama3(factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192))
        #expect(t.rmsNormEps == 1e-5 && t.ropeTheta == 500000)
        #expect(spec.cropTokenIds == [128004, 128005, 128008, 128010, 128011] && spec.promptNumbers == 5)
        #expect(spec.imageTokenId == 128002 && spec.projectorPoolingRatio == 2 && spec.maskEmbedChannels == 1024)
    }

    @Test func gar8BVisionDefaults() throws {
        var p = GARConfigParams(architecture: "vit_pe_core_gigantic_patch14_448", embedDim: 1536, depth: 47)
        p.hidden = 4096; p.layers = 2; p.intermediate = 14336; p.tie = false
        let (_, spec) = try load(p.json)
        #expect(spec.vision.numHeads == 16 && spec.vision.headDim == 96 && spec.vision.mlpHidden == 8960)
        #expect(!spec.vision.classToken && spec.vision.ropeGridOffset == 0 && spec.vision.numPrefixTokens == 0)
    }

    /// GAR-SPEC §10's parameter counts follow from the schema of the GAR-1B config.
    @Test func gar1BParameterCounts() throws {
        let (_, spec) = try load(GARConfigParams().json)
        let counts = GARKeySchema(spec: spec).parameterCounts
        #expect(counts[.visionTower] == 291_415_040)
        #expect(counts[.maskPatchEmbedding] == 602_112)
        #expect(counts[.projector] == 6_295_552)
        #expect(counts[.languageModel] == 1_235_826_688)
        #expect(counts[.lmHead] == nil)  // tied: optional, not counted
        #expect(counts.values.reduce(0, +) == 1_534_139_392)
    }

    @Test func malformedConfigsNameFileAndField() {
        let good = GARConfigParams().json
        expectConfigError(good.replacingOccurrences(of: "\"hidden_size\": 2048, ", with: ""),
                          "config.json: mllm_config.text_config.hidden_size: missing")
        expectConfigError(good.replacingOccurrences(of: "\"num_hidden_layers\": 16", with: "\"num_hidden_layers\": \"16\""),
                          "config.json: mllm_config.text_config.num_hidden_layers: expected an integer")
        expectConfigError(good.replacingOccurrences(of: "\"model_type\": \"GAR\"", with: "\"model_type\": \"llava\""),
                          "config.json: model_type: is \"llava\", expected \"GAR\"")
        expectConfigError(good.replacingOccurrences(of: "vit_pe_core_large_patch14_336", with: "vit_base_patch16_224"),
                          "config.json: mllm_config.vision_config.architecture: unsupported \"vit_base_patch16_224\" (supported: vit_pe_core_gigantic_patch14_448, vit_pe_core_large_patch14_336, vit_pe_lang_gigantic_patch14_448, vit_pe_lang_large_patch14_448)")
        expectConfigError(good.replacingOccurrences(of: "\"num_key_value_heads\": 8", with: "\"num_key_value_heads\": 5"),
                          "config.json: mllm_config.text_config.num_key_value_heads: 5 does not divide num_attention_heads 32")
        expectConfigError(good.replacingOccurrences(of: "\"rope_type\": \"llama3\"", with: "\"rope_type\": \"yarn\""),
                          "config.json: mllm_config.text_config.rope_scaling.rope_type: \"yarn\" is not supported (expected \"llama3\" or \"default\")")
        expectConfigError(good.replacingOccurrences(of: "\"mask_path_embedding_out_channels\": 1024", with: "\"mask_path_embedding_out_channels\": 1280"),
                          "config.json: mask_path_embedding_out_channels: 1280 differs from the vision tower width 1024")
        expectConfigError(good.replacingOccurrences(of: "\"text_config\": {", with: "\"text_config\": [{").replacingOccurrences(of: "\"hidden_act\": \"silu\"\n    }", with: "\"hidden_act\": \"silu\"\n    }]"),
                          "config.json: mllm_config.text_config: expected an object")
        expectConfigError("{\"model_type\": \"GAR\",}", "config.json: invalid JSON at byte 21: expected a string key")
        expectConfigError("", "config.json: invalid JSON at byte 0: unexpected end of input")
        expectConfigError(good.replacingOccurrences(of: "\"crop_tokens_ids\": [128004, 128005, 128008, 128010, 128011]", with: "\"crop_tokens_ids\": [128004, 999999]"),
                          "config.json: crop_tokens_ids: has 2 ids for 5 prompts")
        expectConfigError(good.replacingOccurrences(of: "\"img_size\": [448, 448]", with: "\"img_size\": [450, 450]"),
                          "config.json: mllm_config.vision_config.model_args.img_size: 450×450 is not a multiple of patch size 14")
    }

    /// Absurd sizes used to build a 10^12-entry key schema (memory exhaustion), overflow
    /// `width × width` (a trap) or trap in `Array.prefix(-1)`; they are config errors now.
    @Test func absurdSizesAreConfigErrors() {
        var p = GARConfigParams()
        p.layers = 1_000_000_000_000
        expectConfigError(p.json, "config.json: mllm_config.text_config.num_hidden_layers: must be between 1 and 1024, got 1000000000000")
        p = GARConfigParams(); p.depth = 1_000_000_000_000
        expectConfigError(p.json, "config.json: mllm_config.vision_config.model_args.depth: must be between 1 and 1024, got 1000000000000")
        p = GARConfigParams(); p.hidden = 1 << 40
        expectConfigError(p.json, "config.json: mllm_config.text_config.hidden_size: must be between 1 and 131072, got 1099511627776")
        p = GARConfigParams(); p.intermediate = 1 << 62
        expectConfigError(p.json, "config.json: mllm_config.text_config.intermediate_size: must be between 1 and 131072, got 4611686018427387904")
        p = GARConfigParams(); p.vocab = 1 << 62
        expectConfigError(p.json, "config.json: mllm_config.text_config.vocab_size: must be between 1 and 16777216, got 4611686018427387904")
        p = GARConfigParams(); p.imgSize = 14 << 30
        expectConfigError(p.json, "config.json: mllm_config.vision_config.model_args.img_size: expected one or two sizes between 1 and 16384")
        p = GARConfigParams(); p.extraModelArgs = ", \"mlp_ratio\": 1e30"
        expectConfigError(p.json, "config.json: mllm_config.vision_config.model_args.mlp_ratio: must be in (0, 64], got 1e+30")
        let good = GARConfigParams().json
        expectConfigError(good.replacingOccurrences(of: "\"prompt_numbers\": 5", with: "\"prompt_numbers\": -1"),
                          "config.json: prompt_numbers: must be between 1 and 1024, got -1")
    }

    @Test func tinyConfigWithSmallIds() throws {
        let (_, spec) = try load(GARConfigParams.tiny.json)
        #expect(spec.vision.numHeads == 4 && spec.vision.headDim == 8 && spec.text.vocabSize == 300)
        #expect(spec.cropTokenIds == [260, 261, 262, 263, 264] && spec.imageTokenId == 258)
        var bad = GARConfigParams.tiny
        bad.cropIds = [260, 261, 262, 263, 900]
        expectConfigError(bad.json, "config.json: crop_tokens_ids[4]: 900 is outside the vocabulary (300)")
    }

    @Test func preprocessorAndGenerationConfigs() throws {
        let dir = try TempDir()
        try dir.write("preprocessor_config.json", """
        {"image_processor_type": "PerceptionLMImageProcessorFast", "max_num_tiles": 16, "max_frame_tiles": 1,
         "resample": 3, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "tile_size": 448,
         "vision_input_type": "thumb+tile", "do_convert_rgb": true, "rescale_factor": 0.00392156862745098}
        """)
        let p = try PreprocessorConfig.load(dir.url.path)
        #expect(p.maxNumTiles == 16 && p.tileSize == 448 && p.resample == 3 && p.imageMean == [0.5, 0.5, 0.5])
        #expect(p.visionInputType == "thumb+tile")
        try dir.write("preprocessor_config.json", #"{"max_num_tiles": "many"}"#)
        #expect(throws: CheckpointError.config(file: dir.url.appendingPathComponent("preprocessor_config.json").path, field: "max_num_tiles", problem: "expected an integer")) {
            try PreprocessorConfig.load(dir.url.path)
        }
        try dir.write("preprocessor_config.json", #"{"resample": 0}"#)
        #expect(throws: CheckpointError.config(file: dir.url.appendingPathComponent("preprocessor_config.json").path, field: "resample", problem: "0 is not supported (expected 3 = BICUBIC)")) {
            try PreprocessorConfig.load(dir.url.path)
        }
        #expect(try GenerationConfig.loadIfPresent(dir.url.path) == nil)
        try dir.write("generation_config.json", #"{"bos_token_id": 128000, "eos_token_id": [128001, 128009], "do_sample": false}"#)
        #expect(try GenerationConfig.loadIfPresent(dir.url.path)?.eosTokenIds == [128001, 128009])
        try dir.write("generation_config.json", #"{"eos_token_id": 128009}"#)
        #expect(try GenerationConfig.loadIfPresent(dir.url.path)?.eosTokenIds == [128009])
        try dir.write("generation_config.json", #"{"eos_token_id": "x"}"#)
        #expect(throws: CheckpointError.config(file: dir.url.appendingPathComponent("generation_config.json").path, field: "eos_token_id", problem: "expected an integer")) {
            try GenerationConfig.loadIfPresent(dir.url.path)
        }
    }

    /// A tiny checkpoint written from the schema matches it; breaking it is reported by name.
    @Test func schemaComparison() throws {
        let dir = try TempDir()
        try dir.write("config.json", GARConfigParams.tiny.json)
        let (_, spec) = try GARConfig.load(dir.url.path)
        let schema = GARKeySchema(spec: spec)
        try writeCheckpoint(schema, to: dir)
        #expect(schema.compare(with: try Checkpoint(directory: dir.url.path)).isClean)
        try writeCheckpoint(schema, to: dir, includeOptional: true)  // an explicit tied head is fine too
        #expect(schema.compare(with: try Checkpoint(directory: dir.url.path)).isClean)
        try writeCheckpoint(schema, to: dir) { entries in
            entries.removeAll { $0.name == "mllm.model.language_model.layers.1.mlp.up_proj.weight" }
            let i = entries.firstIndex { $0.name == "mllm.model.vision_tower.timm_model.pos_embed" }!
            entries[i] = .init(name: entries[i].name, tensor: Tensor(shape: [1, 1024, 32]), as: .bf16)
            entries.append(.init(name: "mllm.model.vision_tower.timm_model.head.weight", tensor: Tensor(shape: [2]), as: .bf16))
        }
        let report = schema.compare(with: try Checkpoint(directory: dir.url.path))
        #expect(report.missing == ["mllm.model.language_model.layers.1.mlp.up_proj.weight"])
        #expect(report.mismatched == [.init(name: "mllm.model.vision_tower.timm_model.pos_embed", expected: [1, 1025, 32], found: [1, 1024, 32])])
        #expect(report.unused == ["mllm.model.vision_tower.timm_model.head.weight"])
    }
}
