// Helpers: temporary directories, small safetensors files, GAR-layout config.json text.
import Checkpoints
import Foundation
import Tensors

/// A fresh temporary directory, removed when the returned object is released.
final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("gar-ckpt-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func write(_ name: String, _ text: String) throws { try Data(text.utf8).write(to: url.appendingPathComponent(name)) }
    func write(_ name: String, bytes: [UInt8]) throws { try Data(bytes).write(to: url.appendingPathComponent(name)) }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// SplitMix64.
struct Rng {
    var s: UInt64
    mutating func next() -> UInt64 {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func float() -> Float { Float(Double(next() >> 11) / Double(1 << 53)) * 2 - 1 }
}

func floats(_ n: Int, seed: UInt64) -> [Float] {
    var r = Rng(s: seed)
    return (0 ..< n).map { _ in r.float() }
}

/// Parameters of a GAR-layout config.json.
struct GARConfigParams {
    var architecture = "vit_pe_core_large_patch14_336"
    var embedDim = 1024
    var depth = 23
    var numHeads: Int? = nil
    var imgSize = 448
    var hidden = 2048
    var layers = 16
    var heads = 32
    var kvHeads = 8
    var intermediate = 8192
    var vocab = 128262
    var tie = true
    var cropIds = [128004, 128005, 128008, 128010, 128011]
    var imageTokenId = 128002
    var maskChannels: Int? = nil
    var extraModelArgs = ""

    static let tiny = GARConfigParams(embedDim: 32, depth: 2, numHeads: 4, hidden: 24, layers: 2, heads: 4, kvHeads: 2,
                                      intermediate: 40, vocab: 300, cropIds: [260, 261, 262, 263, 264], imageTokenId: 258)

    var json: String {
        let headsArg = numHeads.map { "\"num_heads\": \($0), " } ?? ""
        return """
        {
          "architectures": ["GARModel"],
          "model_type": "GAR",
          "prompt_numbers": 5,
          "crop_tokens_ids": \(cropIds),
          "kernel_size": [14, 14],
          "mask_path_embedding_out_channels": \(maskChannels ?? embedDim),
          "torch_dtype": "bfloat16",
          "mllm_config": {
            "model_type": "perception_lm",
            "projector_pooling_ratio": 2,
            "vision_use_cls_token": true,
            "image_token_id": \(imageTokenId),
            "video_token_id": \(imageTokenId + 1),
            "vision_config": {
              "architecture": "\(architecture)",
              "model_type": "timm_wrapper",
              "num_classes": 0,
              "model_args": {"embed_dim": \(embedDim), "depth": \(depth), \(headsArg)"img_size": [\(imgSize), \(imgSize)],
                             "global_pool": "", "use_post_transformer_norm": false, "init_values": 0.1,
                             "ref_feat_shape": [32, 32]\(extraModelArgs)}
            },
            "text_config": {
              "model_type": "llama",
              "hidden_size": \(hidden), "num_hidden_layers": \(layers), "num_attention_heads": \(heads),
              "num_key_value_heads": \(kvHeads), "head_dim": \(hidden / heads), "intermediate_size": \(intermediate),
              "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
              "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                               "original_max_position_embeddings": 8192, "rope_type": "llama3"},
              "vocab_size": \(vocab), "tie_word_embeddings": \(tie), "bos_token_id": 128000,
              "eos_token_id": [128001, 128009], "max_position_embeddings": 11520, "hidden_act": "silu"
            }
          }
        }
        """
    }
}

/// Writes a complete checkpoint for `schema` into `dir` (bf16, deterministic values), with
/// `mutate` applied to the tensor list first.
func writeCheckpoint(_ schema: GARKeySchema, to dir: TempDir, dtype: DType = .bf16, includeOptional: Bool = false,
                     mutate: (inout [SafeTensorsWriter.Entry]) -> Void = { _ in }) throws {
    var entries: [SafeTensorsWriter.Entry] = []
    for (i, e) in schema.entries.enumerated() where !e.optional || includeOptional {
        let t = Tensor(shape: e.shape, floats(e.shape.reduce(1, *), seed: UInt64(i + 1)))
        entries.append(.init(name: e.name, tensor: t, as: dtype))
    }
    mutate(&entries)
    var w = SafeTensorsWriter()
    w.entries = entries
    w.metadata = ["format": "pt"]
    try w.write(to: dir.url.appendingPathComponent("model.safetensors"))
}
