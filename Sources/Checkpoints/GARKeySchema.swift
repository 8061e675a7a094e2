// The tensor keys and shapes a GAR checkpoint must hold, derived from config.json
// (GAR-SPEC §8), declared once per loader: `MaskEmbeddingKeys`, `VisionTowerKeys`
// (PerceptionEncoder), `ProjectorKeys` (Projector) and `LlamaKeys` (LlamaDecoder). Module paths:
// GARModel → `mllm` (PerceptionLMForConditionalGeneration) → `model` (PerceptionLMModel) →
// `vision_tower.timm_model` (timm Eva) / `multi_modal_projector` / `language_model` (LlamaModel);
// plus `mllm.lm_head` and `mask_patch_embedding`.
//
// These tables are the one place key names and shapes are written: the loaders in Models read
// each tensor through its table entry (and skip the `ignored` ones), and `gar inspect` compares a
// checkpoint with the same tables (`GARKeySchema.compare`) — so a checkpoint inspect passes is one
// that loads, and the other way round. `unsupported` lists the configs the loaders refuse.

/// One tensor a loader declares: its full checkpoint key, its shape, its group, and whether the
/// loader reads it.
public struct TensorKey: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let component: GARKeySchema.Component
    /// Why the loader skips this key (it may then be absent; present, it is accepted unread);
    /// nil: required and read.
    public let ignoredBecause: String?

    /// May be absent, and is not used when present.
    public var optional: Bool { ignoredBecause != nil }

    init(_ component: GARKeySchema.Component, _ name: String, _ shape: [Int], ignoredBecause: String? = nil) {
        self.name = component.prefix! + name
        self.shape = shape
        self.component = component
        self.ignoredBecause = ignoredBecause
    }
}

/// `mask_patch_embedding` (GARModel).
public struct MaskEmbeddingKeys: Sendable {
    public let weight: TensorKey

    public init(spec: GARSpec) {
        let P = spec.maskKernelSize
        weight = TensorKey(.maskPatchEmbedding, "weight", [spec.maskEmbedChannels, 3, P, P])
    }

    public var all: [TensorKey] { [weight] }
}

/// `mllm.model.vision_tower.timm_model` (PerceptionEncoder). Optional members are absent when the
/// config does not use them.
public struct VisionTowerKeys: Sendable {
    public struct Block: Sendable {
        public let norm1Weight, norm1Bias: TensorKey
        public let qkvWeight: TensorKey
        public let qkvBias: TensorKey?
        public let projWeight, projBias: TensorKey
        public let gamma1: TensorKey?
        public let norm2Weight, norm2Bias: TensorKey
        public let fc1Weight, fc1Bias, fc2Weight, fc2Bias: TensorKey
        public let gamma2: TensorKey?

        public var all: [TensorKey] {
            [gamma1, gamma2, norm1Weight, norm1Bias, qkvWeight, qkvBias, projWeight, projBias, norm2Weight, norm2Bias,
             fc1Weight, fc1Bias, fc2Weight, fc2Bias].compactMap { $0 }
        }
    }

    public let clsToken: TensorKey?
    public let posEmbed: TensorKey?
    public let patchEmbedWeight: TensorKey
    public let patchEmbedBias: TensorKey?
    public let normPreWeight, normPreBias: TensorKey?
    public let blocks: [Block]
    public let normWeight, normBias: TensorKey?
    /// timm builds fc_norm whatever the config says (use_fc_norm only picks the pooling); GAR's
    /// forward_features never calls it.
    public let fcNormWeight, fcNormBias: TensorKey

    public init(spec v: VisionTowerSpec) {
        let D = v.embedDim, P = v.patchSize
        func key(_ name: String, _ shape: [Int], if used: Bool = true) -> TensorKey? {
            used ? TensorKey(.visionTower, name, shape) : nil
        }
        clsToken = key("cls_token", [1, 1, D], if: v.classToken)
        posEmbed = key("pos_embed", [1, v.numPatches + v.numPrefixTokens, D], if: v.useAbsPosEmb)
        patchEmbedWeight = TensorKey(.visionTower, "patch_embed.proj.weight", [D, 3, P, P])
        patchEmbedBias = key("patch_embed.proj.bias", [D], if: !v.usePreTransformerNorm)
        normPreWeight = key("norm_pre.weight", [D], if: v.usePreTransformerNorm)
        normPreBias = key("norm_pre.bias", [D], if: v.usePreTransformerNorm)
        blocks = (0 ..< v.depth).map { i in
            let b = "blocks.\(i)."
            func k(_ name: String, _ shape: [Int]) -> TensorKey { TensorKey(.visionTower, b + name, shape) }
            return Block(norm1Weight: k("norm1.weight", [D]), norm1Bias: k("norm1.bias", [D]),
                         qkvWeight: k("attn.qkv.weight", [3 * D, D]), qkvBias: v.qkvBias ? k("attn.qkv.bias", [3 * D]) : nil,
                         projWeight: k("attn.proj.weight", [D, D]), projBias: k("attn.proj.bias", [D]),
                         gamma1: v.layerScale ? k("gamma_1", [D]) : nil,
                         norm2Weight: k("norm2.weight", [D]), norm2Bias: k("norm2.bias", [D]),
                         fc1Weight: k("mlp.fc1.weight", [v.mlpHidden, D]), fc1Bias: k("mlp.fc1.bias", [v.mlpHidden]),
                         fc2Weight: k("mlp.fc2.weight", [D, v.mlpHidden]), fc2Bias: k("mlp.fc2.bias", [D]),
                         gamma2: v.layerScale ? k("gamma_2", [D]) : nil)
        }
        normWeight = key("norm.weight", [D], if: v.usePostTransformerNorm)
        normBias = key("norm.bias", [D], if: v.usePostTransformerNorm)
        let unused = "timm's fc_norm: GAR's forward_features never calls it"
        fcNormWeight = TensorKey(.visionTower, "fc_norm.weight", [D], ignoredBecause: unused)
        fcNormBias = TensorKey(.visionTower, "fc_norm.bias", [D], ignoredBecause: unused)
    }

    public var all: [TensorKey] {
        [clsToken, posEmbed, patchEmbedWeight, patchEmbedBias, normPreWeight, normPreBias].compactMap { $0 }
            + blocks.flatMap(\.all) + [normWeight, normBias, fcNormWeight, fcNormBias].compactMap { $0 }
    }
}

/// `mllm.model.multi_modal_projector` (Projector): vision width → LLM width.
public struct ProjectorKeys: Sendable {
    public let linear1Weight, linear1Bias, linear2Weight, linear2Bias: TensorKey

    public init(spec: GARSpec) {
        let Dv = spec.vision.embedDim, D = spec.text.hiddenSize
        linear1Weight = TensorKey(.projector, "linear_1.weight", [D, Dv])
        linear1Bias = TensorKey(.projector, "linear_1.bias", [D])
        linear2Weight = TensorKey(.projector, "linear_2.weight", [D, D])
        linear2Bias = TensorKey(.projector, "linear_2.bias", [D])
    }

    public var all: [TensorKey] { [linear1Weight, linear1Bias, linear2Weight, linear2Bias] }
}

/// `mllm.model.language_model` and `mllm.lm_head` (LlamaDecoder). Llama biases are not declared:
/// the loader refuses configs with them (`GARKeySchema.unsupported(text:)`).
public struct LlamaKeys: Sendable {
    public struct Layer: Sendable {
        public let qProj, kProj, vProj, oProj: TensorKey
        public let gateProj, upProj, downProj: TensorKey
        public let inputNorm, postAttentionNorm: TensorKey

        public var all: [TensorKey] { [qProj, kProj, vProj, oProj, gateProj, upProj, downProj, inputNorm, postAttentionNorm] }
    }

    public let embedTokens: TensorKey
    public let layers: [Layer]
    public let norm: TensorKey
    /// Ignored when the head is tied to the embeddings (GAR-1B: save_pretrained drops it and
    /// from_pretrained ties the head to embed_tokens, so a stored copy would never be used).
    public let lmHead: TensorKey

    public init(spec t: TextModelSpec) {
        let H = t.hiddenSize, q = t.numHeads * t.headDim, kv = t.numKVHeads * t.headDim, I = t.intermediateSize
        embedTokens = TensorKey(.languageModel, "embed_tokens.weight", [t.vocabSize, H])
        layers = (0 ..< t.numLayers).map { i in
            let l = "layers.\(i)."
            func k(_ name: String, _ shape: [Int]) -> TensorKey { TensorKey(.languageModel, l + name, shape) }
            return Layer(qProj: k("self_attn.q_proj.weight", [q, H]), kProj: k("self_attn.k_proj.weight", [kv, H]),
                         vProj: k("self_attn.v_proj.weight", [kv, H]), oProj: k("self_attn.o_proj.weight", [H, q]),
                         gateProj: k("mlp.gate_proj.weight", [I, H]), upProj: k("mlp.up_proj.weight", [I, H]),
                         downProj: k("mlp.down_proj.weight", [H, I]),
                         inputNorm: k("input_layernorm.weight", [H]), postAttentionNorm: k("post_attention_layernorm.weight", [H]))
        }
        norm = TensorKey(.languageModel, "norm.weight", [H])
        lmHead = TensorKey(.lmHead, "weight", [t.vocabSize, H],
                           ignoredBecause: t.tieWordEmbeddings ? "tied to embed_tokens (tie_word_embeddings)" : nil)
    }

    public var all: [TensorKey] { [embedTokens] + layers.flatMap(\.all) + [norm, lmHead] }
}

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

    public typealias Entry = TensorKey

    public let maskEmbedding: MaskEmbeddingKeys
    public let vision: VisionTowerKeys
    public let projector: ProjectorKeys
    public let text: LlamaKeys

    /// Every key of every loader, in loading order.
    public var entries: [TensorKey] { maskEmbedding.all + vision.all + projector.all + text.all }

    public init(spec: GARSpec) {
        maskEmbedding = MaskEmbeddingKeys(spec: spec)
        vision = VisionTowerKeys(spec: spec.vision)
        projector = ProjectorKeys(spec: spec)
        text = LlamaKeys(spec: spec.text)
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

    /// Keys the loaders skip (optional entries).
    public var ignoredKeys: [String] { entries.filter(\.optional).map(\.name) }

    /// Compares a checkpoint with the schema as the loaders read it: missing required keys, keys
    /// no loader declares (unused), shape mismatches and unreadable dtypes, all by name. Ignored
    /// keys are accepted as they are (the loaders skip them unread).
    public func compare(with checkpoint: Checkpoint) -> LoadReport {
        var report = LoadReport(source: checkpoint.source)
        var known = Set<String>()
        for entry in entries {
            known.insert(entry.name)
            if entry.optional { continue }
            guard let info = checkpoint.info(entry.name) else {
                report.missing.append(entry.name)
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
