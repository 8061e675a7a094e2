// `gar inspect MODEL_DIR`: what a GAR checkpoint directory holds and whether it matches the
// architecture its config.json describes (GARKeySchema). The CLI only prints this report.
import Checkpoints
import Foundation

public struct InspectReport: Codable, Sendable {
    public struct VisionSummary: Codable, Sendable {
        public var architecture: String
        public var embedDim: Int, depth: Int, numHeads: Int, headDim: Int, mlpHidden: Int
        public var patchSize: Int, imageSize: [Int], grid: [Int]
        public var classToken: Bool, ropeGridOffset: Float, layerScale: Bool
    }

    public struct TextSummary: Codable, Sendable {
        public var hiddenSize: Int, numLayers: Int, numHeads: Int, numKVHeads: Int, headDim: Int
        public var intermediateSize: Int, vocabSize: Int, tieWordEmbeddings: Bool
        public var ropeTheta: Float, ropeScaling: String, rmsNormEps: Float, eosTokenIds: [Int]
    }

    public struct FileSummary: Codable, Sendable {
        public var name: String, tensors: Int, bytes: Int
    }

    public struct TensorEntry: Codable, Sendable {
        public var name: String, dtype: String, shape: [Int], component: String
        /// "ok", "unused", "shape mismatch (expected [..])", or "unreadable"
        public var status: String
    }

    /// Tensors stored in one dtype (a list, not a map: JSON keys are never data).
    public struct DTypeCount: Codable, Sendable, Equatable {
        public var dtype: String
        public var tensors: Int
    }

    public struct Mismatch: Codable, Sendable {
        public var name: String, expected: [Int], found: [Int]
    }

    /// README "JSON outputs" (`inspect`).
    public var schemaVersion = 2
    public var directory: String
    public var vision: VisionSummary
    public var text: TextSummary
    public var maskEmbedChannels: Int
    public var cropTokenIds: [Int]
    public var imageTokenId: Int
    public var promptNumbers: Int
    public var preprocessor: PreprocessorConfig.Resolved?
    public var generationEosTokenIds: [Int]?
    public var files: [FileSummary]
    /// Sorted by dtype name.
    public var dtypes: [DTypeCount]
    /// Parameters found in the checkpoint, per component (GARKeySchema.Component raw values) and "total".
    public var parameters: [String: Int]
    /// Parameters the config implies, per component.
    public var expectedParameters: [String: Int]
    public var missing: [String]
    public var unused: [String]
    public var mismatched: [Mismatch]
    public var unreadable: [String]
    /// Config features the model cannot load (absent from the JSON when there are none).
    public var unsupported: [String]?
    /// Every tensor (only with `--keys`).
    public var tensors: [TensorEntry]?

    public var matches: Bool { missing.isEmpty && unused.isEmpty && mismatched.isEmpty && unreadable.isEmpty && unsupported == nil }

    /// One line for stderr when the checkpoint does not match (nil when it does).
    public var mismatchLine: String? {
        guard !matches else { return nil }
        if let unsupported { return "\(directory): the model cannot load this config.json: \(unsupported.joined(separator: "; "))" }
        let parts = [(missing.count, "missing"), (mismatched.count, "with the wrong shape"), (unused.count, "unused"), (unreadable.count, "unreadable")]
            .filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }
        return "\(directory): the checkpoint does not match its config.json (tensors: \(parts.joined(separator: ", ")); see the report)"
    }

    /// Reads config.json (required), preprocessor_config.json and generation_config.json (if
    /// present) and the safetensors files of `directory`.
    public static func build(directory: String, includeKeys: Bool) throws -> InspectReport {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw CheckpointError.io(path: directory, reason: "no such directory")
        }
        let (_, spec) = try GARConfig.load(directory)
        let checkpoint = try Checkpoint(directory: directory)
        let schema = GARKeySchema(spec: spec)
        let comparison = schema.compare(with: checkpoint)
        let unsupported = GARKeySchema.unsupported(spec)

        var preprocessor: PreprocessorConfig.Resolved?
        let preFile = URL(fileURLWithPath: directory).appendingPathComponent("preprocessor_config.json").path
        if FileManager.default.fileExists(atPath: preFile) { preprocessor = try PreprocessorConfig.load(preFile) }
        let generation = try GenerationConfig.loadIfPresent(directory)

        var dtypes: [String: Int] = [:]
        var params: [String: Int] = [:]
        for name in checkpoint.names {
            let info = checkpoint.info(name)!
            dtypes[info.dtype.rawValue, default: 0] += 1
            params[GARKeySchema.Component.of(name).rawValue, default: 0] += info.elementCount
        }
        params["total"] = params.values.reduce(0, +)
        var expected: [String: Int] = [:]
        for (c, n) in schema.parameterCounts { expected[c.rawValue] = n }
        expected["total"] = expected.values.reduce(0, +)

        var tensors: [TensorEntry]?
        if includeKeys {
            let unused = Set(comparison.unused)
            let mismatch = Dictionary(uniqueKeysWithValues: comparison.mismatched.map { ($0.name, $0.expected) })
            let unreadable = Set(comparison.unreadable.map { String($0.split(separator: " ").first ?? "") })
            tensors = checkpoint.names.map { name in
                let info = checkpoint.info(name)!
                var status = "ok"
                if unused.contains(name) { status = "unused" }
                if let e = mismatch[name] { status = "shape mismatch (expected \(e))" }
                if unreadable.contains(name) { status = "unreadable" }
                return TensorEntry(name: name, dtype: info.dtype.rawValue, shape: info.shape,
                                   component: GARKeySchema.Component.of(name).rawValue, status: status)
            }
        }

        let v = spec.vision, t = spec.text
        let scaling: String
        switch t.ropeScaling {
        case .none: scaling = "none"
        case let .llama3(f, lo, hi, orig): scaling = "llama3(factor \(f), low \(lo), high \(hi), original \(orig))"
        }
        return InspectReport(
            directory: directory,
            vision: .init(architecture: v.architecture, embedDim: v.embedDim, depth: v.depth, numHeads: v.numHeads,
                          headDim: v.headDim, mlpHidden: v.mlpHidden, patchSize: v.patchSize,
                          imageSize: [v.imageHeight, v.imageWidth], grid: [v.gridHeight, v.gridWidth],
                          classToken: v.classToken, ropeGridOffset: v.ropeGridOffset, layerScale: v.layerScale),
            text: .init(hiddenSize: t.hiddenSize, numLayers: t.numLayers, numHeads: t.numHeads, numKVHeads: t.numKVHeads,
                        headDim: t.headDim, intermediateSize: t.intermediateSize, vocabSize: t.vocabSize,
                        tieWordEmbeddings: t.tieWordEmbeddings, ropeTheta: t.ropeTheta, ropeScaling: scaling,
                        rmsNormEps: t.rmsNormEps, eosTokenIds: t.eosTokenIds),
            maskEmbedChannels: spec.maskEmbedChannels, cropTokenIds: spec.cropTokenIds, imageTokenId: spec.imageTokenId,
            promptNumbers: spec.promptNumbers, preprocessor: preprocessor, generationEosTokenIds: generation?.eosTokenIds,
            files: checkpoint.files.map { f in
                FileSummary(name: URL(fileURLWithPath: f.path).lastPathComponent, tensors: f.tensors.count,
                            bytes: f.file.bytes.count)
            },
            dtypes: dtypes.keys.sorted().map { DTypeCount(dtype: $0, tensors: dtypes[$0]!) }, parameters: params, expectedParameters: expected,
            missing: comparison.missing, unused: comparison.unused,
            mismatched: comparison.mismatched.map { Mismatch(name: $0.name, expected: $0.expected, found: $0.found) },
            unreadable: comparison.unreadable, unsupported: unsupported.isEmpty ? nil : unsupported, tensors: tensors)
    }

    /// JSON with sorted keys (stable output).
    public func json() throws -> String { try JSONOutput.string(self, pretty: true) }

    /// Human-readable summary.
    public func text(listKeys: Bool) -> String {
        func count(_ n: Int) -> String {
            let s = String(n)
            var out = ""
            for (i, ch) in s.reversed().enumerated() {
                if i > 0 && i % 3 == 0 { out.append(",") }
                out.append(ch)
            }
            return String(out.reversed())
        }
        var lines: [String] = []
        lines.append("checkpoint: \(directory)")
        let v = vision, t = text
        lines.append("vision tower: \(v.architecture), \(v.depth) blocks, width \(v.embedDim), \(v.numHeads) heads × \(v.headDim), MLP \(v.mlpHidden), patch \(v.patchSize), image \(v.imageSize[0])×\(v.imageSize[1]) (grid \(v.grid[0])×\(v.grid[1])), CLS \(v.classToken ? "yes" : "no"), RoPE offset \(v.ropeGridOffset)")
        lines.append("language model: Llama, \(t.numLayers) layers, width \(t.hiddenSize), \(t.numHeads)/\(t.numKVHeads) heads × \(t.headDim), MLP \(t.intermediateSize), vocab \(t.vocabSize), tied head \(t.tieWordEmbeddings ? "yes" : "no"), rope θ \(t.ropeTheta) \(t.ropeScaling)")
        lines.append("GAR: mask embedding \(maskEmbedChannels), \(promptNumbers) prompts, crop tokens \(cropTokenIds), image token \(imageTokenId)")
        if let p = preprocessor {
            lines.append("preprocessor: \(p.visionInputType), tile \(p.tileSize), max \(p.maxNumTiles) tiles, resample \(p.resample), mean \(p.imageMean), std \(p.imageStd)")
        }
        if let eos = generationEosTokenIds { lines.append("generation: eos \(eos)") }
        for f in files { lines.append("file: \(f.name) — \(f.tensors) tensors, \(count(f.bytes)) bytes") }
        lines.append("dtypes: " + dtypes.map { "\($0.dtype) × \($0.tensors)" }.joined(separator: ", "))
        lines.append("parameters (found / expected):")
        for c in GARKeySchema.Component.allCases.map(\.rawValue) + ["total"] {
            let found = parameters[c] ?? 0, exp = expectedParameters[c] ?? 0
            if found == 0 && exp == 0 { continue }
            lines.append("  \(c.padding(toLength: 22, withPad: " ", startingAt: 0)) \(count(found)) / \(count(exp))")
        }
        if matches {
            lines.append("keys: every expected tensor present with the expected shape; nothing unused")
        } else {
            if !missing.isEmpty { lines.append("missing (\(missing.count)):"); lines += missing.map { "  \($0)" } }
            if !mismatched.isEmpty {
                lines.append("shape mismatches (\(mismatched.count)):")
                lines += mismatched.map { "  \($0.name): expected \($0.expected), found \($0.found)" }
            }
            if !unused.isEmpty { lines.append("unused (\(unused.count)):"); lines += unused.map { "  \($0)" } }
            if !unreadable.isEmpty { lines.append("unreadable (\(unreadable.count)):"); lines += unreadable.map { "  \($0)" } }
        }
        if listKeys, let tensors {
            lines.append("tensors (\(tensors.count)):")
            lines += tensors.map { "  \($0.name)  \($0.dtype) \($0.shape)  [\($0.component)]\($0.status == "ok" ? "" : "  \($0.status)")" }
        }
        return lines.joined(separator: "\n")
    }
}
