// The tensor keys and shapes a GAR checkpoint must hold, derived from config.json
// (GAR-SPEC §8). Module paths: GARModel → `mllm` (PerceptionLMForConditionalGeneration) →
// `model` (PerceptionLMModel) → `vision_tower.timm_model` (timm Eva) /
// `multi_modal_projector` / `language_model` (LlamaModel); plus `mllm.lm_head` and
// `mask_patch_embedding`. Used by `gar inspect`; the model loader in Models takes the same keys,
// and takes from here what it may skip (`optional` entries: timm's fc_norm, the tied head) and
// which configs it refuses (`unsupported`), so that a checkpoint inspect passes is one that loads.

public struct GARKeySchema: Sendable {
    /// Parameter groups reported by `gar inspect`.
    public enum Component: String, CaseIterable, Sendable, Codable {
        case visionTower = "vision_tower"
        case maskPatchEmbedding = "mask_patch_embedding"
        case projector = "projector"
        case languageModel = "language_model"
        case lmHead = "lm_head"
        case other = "other"

        /// Key prefix of each group.
        public var prefix: String? {
            switch self {
            case .visionTower: return "mllm.model.vision_tower.timm_model."
            case .maskPatchEmbedding: return "mask_patch_embedding."
            case .projector: return "mllm.model.multi_modal_projector."
            case .languageModel: return "mllm.model.language_model."
            case .lmHead: return "mllm.lm_head."
            case .other: return nil
            }
        }

        /// The group a key belongs to, by prefix.
        public static func of(_ key: String) -> Component {
            allCases.first { c in c.prefix.map { key.hasPrefix($0) } ?? false } ?? .other
        }
    }

    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let component: Component
        /// May be absent, and is not used when present (the tied `mllm.lm_head.weight`, timm's
        /// `fc_norm`, which GAR's forward_features never calls): the loader ignores these keys.
        public let optional: Bool
    }

    public let entries: [Entry]

    public init(spec: GARSpec) {
        var e: [Entry] = []
        func add(_ c: Component, _ name: String, _ shape: [Int], optional: Bool = false) {
            e.append(Entry(name: c.prefix! + name, shape: shape, component: c, optional: optional))
        }
        let v = spec.vision, D = v.embedDim, P = v.patchSize
        add(.maskPatchEmbedding, "weight", [spec.maskEmbedChannels, 3, spec.maskKernelSize, spec.maskKernelSize])
        if v.classToken { add(.visionTower, "cls_token", [1, 1, D]) }
        if v.useAbsPosEmb { add(.visionTower, "pos_embed", [1, v.numPatches + v.numPrefixTokens, D]) }
        add(.visionTower, "patch_embed.proj.weight", [D, 3, P, P])
        if !v.usePreTransformerNorm { add(.visionTower, "patch_embed.proj.bias", [D]) }
        if v.usePreTransformerNorm {
            add(.visionTower, "norm_pre.weight", [D])
            add(.visionTower, "norm_pre.bias", [D])
        }
        for i in 0 ..< v.depth {
            let b = "blocks.\(i)."
            if v.layerScale {
                add(.visionTower, b + "gamma_1", [D])
                add(.visionTower, b + "gamma_2", [D])
            }
            add(.visionTower, b + "norm1.weight", [D]); add(.visionTower, b + "norm1.bias", [D])
            add(.visionTower, b + "attn.qkv.weight", [3 * D, D])
            if v.qkvBias { add(.visionTower, b + "attn.qkv.bias", [3 * D]) }
            add(.visionTower, b + "attn.proj.weight", [D, D]); add(.visionTower, b + "attn.proj.bias", [D])
            add(.visionTower, b + "norm2.weight", [D]); add(.visionTower, b + "norm2.bias", [D])
            add(.visionTower, b + "mlp.fc1.weight", [v.mlpHidden, D]); add(.visionTower, b + "mlp.fc1.bias", [v.mlpHidden])
            add(.visionTower, b + "mlp.fc2.weight", [D, v.mlpHidden]); add(.visionTower, b + "mlp.fc2.bias", [D])
        }
        if v.usePostTransformerNorm {
            add(.visionTower, "norm.weight", [D]); add(.visionTower, "norm.bias", [D])
        }
        // timm builds fc_norm whatever the config says (use_fc_norm only picks the pooling).
        add(.visionTower, "fc_norm.weight", [D], optional: true); add(.visionTower, "fc_norm.bias", [D], optional: true)

        let t = spec.text, H = t.hiddenSize
        add(.projector, "linear_1.weight", [H, D]); add(.projector, "linear_1.bias", [H])
        add(.projector, "linear_2.weight", [H, H]); add(.projector, "linear_2.bias", [H])

        let q = t.numHeads * t.headDim, kv = t.numKVHeads * t.headDim, I = t.intermediateSize
        add(.languageModel, "embed_tokens.weight", [t.vocabSize, H])
        for i in 0 ..< t.numLayers {
            let l = "layers.\(i)."
            add(.languageModel, l + "self_attn.q_proj.weight", [q, H])
            add(.languageModel, l + "self_attn.k_proj.weight", [kv, H])
            add(.languageModel, l + "self_attn.v_proj.weight", [kv, H])
            add(.languageModel, l + "self_attn.o_proj.weight", [H, q])
            if t.attentionBias {
                add(.languageModel, l + "self_attn.q_proj.bias", [q])
                add(.languageModel, l + "self_attn.k_proj.bias", [kv])
                add(.languageModel, l + "self_attn.v_proj.bias", [kv])
                add(.languageModel, l + "self_attn.o_proj.bias", [H])
            }
            add(.languageModel, l + "mlp.gate_proj.weight", [I, H])
            add(.languageModel, l + "mlp.up_proj.weight", [I, H])
            add(.languageModel, l + "mlp.down_proj.weight", [H, I])
            if t.mlpBias {
                add(.languageModel, l + "mlp.gate_proj.bias", [I])
                add(.languageModel, l + "mlp.up_proj.bias", [I])
                add(.languageModel, l + "mlp.down_proj.bias", [H])
            }
            add(.languageModel, l + "input_layernorm.weight", [H])
            add(.languageModel, l + "post_attention_layernorm.weight", [H])
        }
        add(.languageModel, "norm.weight", [H])
        add(.lmHead, "weight", [t.vocabSize, H], optional: t.tieWordEmbeddings)
        entries = e
    }

    /// Configs the model loaders refuse, one line each (empty: the model can load this config).
    public static func unsupported(_ spec: GARSpec) -> [String] {
        [unsupported(vision: spec.vision), unsupported(text: spec.text)].compactMap { $0 }
    }

    public static func unsupported(vision v: VisionTowerSpec) -> String? {
        v.ropeGridIndexing == "xy" ? nil : "vision rope_grid_indexing \"\(v.ropeGridIndexing)\" is not supported (GAR uses \"xy\")"
    }

    public static func unsupported(text t: TextModelSpec) -> String? {
        t.attentionBias || t.mlpBias ? "Llama attention_bias / mlp_bias are not supported (Llama-3 has none)" : nil
    }

    /// Keys present in the checkpoint that the loader skips (optional entries).
    public var ignoredKeys: [String] { entries.filter(\.optional).map(\.name) }

    /// Compares a checkpoint with the schema: missing (required) keys, keys the schema does not
    /// know (unused), and shape mismatches, all by name.
    public func compare(with checkpoint: Checkpoint) -> LoadReport {
        var report = LoadReport(source: checkpoint.source)
        var known = Set<String>()
        for entry in entries {
            known.insert(entry.name)
            guard let info = checkpoint.info(entry.name) else {
                if !entry.optional { report.missing.append(entry.name) }
                continue
            }
            if info.shape != entry.shape {
                report.mismatched.append(.init(name: entry.name, expected: entry.shape, found: info.shape))
            } else if !info.dtype.convertsToFloat {
                report.unreadable.append("\(entry.name) (\(info.dtype.rawValue))")
            }
        }
        report.unused = checkpoint.names.filter { !known.contains($0) }
        return report
    }

    /// Parameter count per component.
    public var parameterCounts: [Component: Int] {
        var counts: [Component: Int] = [:]
        for e in entries where !e.optional { counts[e.component, default: 0] += e.shape.reduce(1, *) }
        return counts
    }
}
