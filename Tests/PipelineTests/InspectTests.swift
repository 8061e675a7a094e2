// `gar inspect`'s report on checkpoints written here with the GAR key schema.
import TestSupport
import Checkpoints
import Foundation
import Testing
import Tensors
@testable import Pipeline

@Suite struct InspectTests {
    static let tinyConfig = """
    {"model_type": "GAR", "prompt_numbers": 5, "crop_tokens_ids": [60, 61, 62, 63, 64], "kernel_size": [14, 14],
     "mask_path_embedding_out_channels": 16,
     "mllm_config": {"projector_pooling_ratio": 2, "vision_use_cls_token": true, "image_token_id": 50, "video_token_id": 51,
       "vision_config": {"architecture": "vit_pe_core_large_patch14_336",
         "model_args": {"embed_dim": 16, "depth": 2, "num_heads": 2, "img_size": [448, 448], "global_pool": "",
                        "use_post_transformer_norm": false, "init_values": 0.1, "ref_feat_shape": [32, 32]}},
       "text_config": {"hidden_size": 12, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
         "intermediate_size": 20, "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "vocab_size": 70, "tie_word_embeddings": true,
         "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                          "original_max_position_embeddings": 8192},
         "eos_token_id": [1, 2]}}}
    """

    func makeCheckpoint(mutate: (inout [SafeTensorsWriter.Entry]) -> Void = { _ in }) throws -> URL {
        let dir = TestTemp.directory("gar-inspect")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(Self.tinyConfig.utf8).write(to: dir.appendingPathComponent("config.json"))
        try Data(#"{"max_num_tiles": 16, "tile_size": 448}"#.utf8).write(to: dir.appendingPathComponent("preprocessor_config.json"))
        let spec = try GARConfig.load(dir.path).spec
        var entries = GARKeySchema(spec: spec).entries.filter { !$0.optional }.map {
            SafeTensorsWriter.Entry(name: $0.name, tensor: Tensor(shape: $0.shape, repeating: 0.5), as: .bf16)
        }
        mutate(&entries)
        var w = SafeTensorsWriter()
        w.entries = entries
        try w.write(to: dir.appendingPathComponent("model.safetensors"))
        return dir
    }

    @Test func cleanCheckpoint() throws {
        let dir = try makeCheckpoint()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try InspectReport.build(directory: dir.path, includeKeys: true)
        #expect(r.matches && r.mismatchLine == nil)
        #expect(r.vision.embedDim == 16 && r.vision.numHeads == 2 && r.text.numKVHeads == 1)
        #expect(r.parameters == r.expectedParameters)
        #expect(r.parameters["mask_patch_embedding"] == 16 * 3 * 14 * 14)
        #expect(r.dtypes == [.init(dtype: "BF16", tensors: r.tensors!.count)])
        #expect(r.preprocessor?.maxNumTiles == 16)
        let text = r.text(listKeys: true)
        #expect(text.contains("every expected tensor present"))
        #expect(text.contains("mllm.model.language_model.embed_tokens.weight  BF16 [70, 12]  [language_model]"))
        let json = try r.json()
        #expect(json.contains("\"missing\" : [\n\n  ]") || json.contains("\"missing\" : []"))
        #expect(json.contains("\"vision\""))
    }

    @Test func brokenCheckpointIsReportedByName() throws {
        let dir = try makeCheckpoint { entries in
            entries.removeAll { $0.name == "mllm.model.multi_modal_projector.linear_2.bias" }
            let i = entries.firstIndex { $0.name == "mask_patch_embedding.weight" }!
            entries[i] = .init(name: entries[i].name, tensor: Tensor(shape: [16, 1, 14, 14]), as: .bf16)
            entries.append(.init(name: "mllm.model.vision_tower.timm_model.attn_pool.latent", tensor: Tensor(shape: [1, 16]), as: .f32))
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try InspectReport.build(directory: dir.path, includeKeys: false)
        #expect(!r.matches)
        #expect(r.missing == ["mllm.model.multi_modal_projector.linear_2.bias"])
        #expect(r.unused == ["mllm.model.vision_tower.timm_model.attn_pool.latent"])
        #expect(r.mismatched.map(\.name) == ["mask_patch_embedding.weight"])
        let text = r.text(listKeys: false)
        #expect(text.contains("missing (1):\n  mllm.model.multi_modal_projector.linear_2.bias"))
        #expect(text.contains("mask_patch_embedding.weight: expected [16, 3, 14, 14], found [16, 1, 14, 14]"))
        #expect(r.dtypes == [.init(dtype: "BF16", tensors: r.files[0].tensors - 1), .init(dtype: "F32", tensors: 1)])
        // gar inspect used to exit 1 with nothing on stderr; this line says why.
        #expect(r.mismatchLine == "\(dir.path): the checkpoint does not match its config.json (tensors: 1 missing, 1 with the wrong shape, 1 unused; see the report)")
    }

    @Test func missingConfigIsAnError() throws {
        let dir = try makeCheckpoint()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("config.json"))
        #expect(throws: CheckpointError.self) { try InspectReport.build(directory: dir.path, includeKeys: false) }
    }
}
