// A pipeline spec: everything a video-region job needs besides its inputs — which frames the
// model sees, how densely the tracker runs, the model directory, the prompt template (video
// protocol v1 by default; the text is data here), the questions and the generation settings.
// Written as YAML in pipelines/*.yaml; the schema is pipelines/README.md. Reading is strict:
// unknown keys and wrong types are errors that name the file, line and key (YAMLTree.swift).
import Foundation
import Models
import Video
import Tensors

public struct PipelineSpec: Sendable, Equatable {
    /// Which frames the model sees.
    public struct Frames: Sendable, Equatable {
        /// Uniform sampling of `count` frames (used when `fps` is nil).
        public var count = 8
        /// Or: this many frames per second of video.
        public var fps: Double?
        /// Uniform rule: PerceptionLM's (`plm`, default) or VideoRefer's (`videorefer`).
        public var rule = "plm"
        /// `rule` as Video's enum (the parser admits only its names).
        public var uniformRule: UniformRule { UniformRule(rawValue: rule) ?? .plm }
        /// With masks from an annotation file: sample among the annotated frames only.
        public var fromAnnotation = true
        /// Use fewer frames when the prompt would not fit the model's context (else: an error).
        public var fitContext = true
    }

    /// How the tracker runs (tracking mode only).
    public struct Tracker: Sendable, Equatable {
        /// Tracking density: every k-th decoded frame with k = max(1, round(video fps / fps)),
        /// plus the sampled and prompted frames. 0 = every frame. Frame folders without a frame
        /// rate are tracked on every frame.
        public var fps: Double = 15
        /// Long side of the tracking resolution.
        public var maxSide = 854
        /// Most frames the tracker runs on: a longer clip is tracked more sparsely (with a warning).
        /// A bound on the tracking time, no longer on memory: the weight-free tracker streams
        /// (frames decoded, propagated and dropped; masks kept as RLE). SAM 2.1's path still
        /// collects its tracking frames (≈1.2 MB each at 854×480), so there it also bounds memory.
        public var maxFrames = 1200
        /// `tracker.kind`: auto (SAM 2.1 when a checkpoint is given, else flow), flow, sam2
        /// (TrackerChoice.swift; --tracker wins).
        public var kind: TrackerKind = .auto
        /// `tracker.sam2_model`: SAM 2.1 checkpoint directory (relative paths are relative to the
        /// spec file's folder, like `model`; --sam2 wins).
        public var sam2Model: String?
        public init() {}
    }

    /// Prompt template and the text added for multiple-choice questions.
    public struct Prompt: Sendable, Equatable {
        public var template = VideoPromptTemplate.v1
        /// Appended after the question and its options (VideoRefer-Bench-Q's wording).
        public var multipleChoiceSuffix = ". Answer with the option's letter from the given choices directly."
    }

    public struct Generation: Sendable, Equatable {
        public var maxNewTokens = 1024
        public var temperature: Float = 0
        public var topP: Float = 1
        public var seed: UInt64 = 0
        /// Two BOS ids as the reference eval path produces.
        public var doubleBOS = true
    }

    public struct VideoRefer: Sendable, Equatable {
        /// `multi`: every annotated frame's mask; `single`: only the mask on the question's
        /// `frame_idx` (VideoRefer's single-frame mode).
        public var maskMode = "multi"
    }

    /// Free text describing the pipeline.
    public var description = ""
    /// Default model directory (relative paths are relative to the spec file's folder).
    public var model: String?
    /// `model.precision`: the compute precision (nil = GAR_PRECISION or the CPU default; the
    /// command line's --precision wins).
    public var precision: Precision?
    public var frames = Frames()
    public var tracker = Tracker()
    public var prompt = Prompt()
    /// Questions asked about every clip, in order (a caption pipeline asks the describe question).
    public var questions: [String] = []
    public var generation = Generation()
    /// Non-default replay: the region itself instead of the reference's doubly scaled box.
    public var correctedBoxScaling = false
    public var videorefer = VideoRefer()
    /// Where the spec came from (a path, or "built-in NAME").
    public var source = "built-in"

    public init() {}

    /// Model request options from the generation and replay settings.
    public var requestOptions: RequestOptions {
        var o = RequestOptions()
        o.generation = GenerationOptions(maxNewTokens: generation.maxNewTokens, temperature: generation.temperature,
                                         topP: generation.topP, seed: generation.seed)
        o.replay = ReplayOptions(correctedBoxScaling: correctedBoxScaling, perRegionBoxes: false)
        o.doubleBOS = generation.doubleBOS
        o.videoTemplate = prompt.template
        return o
    }
}

// MARK: reading

extension PipelineSpec {
    /// Largest spec file read (a real one is a few KB).
    public static let maxFileSize = 1 << 20

    /// Reads a spec file; `overrides` are `key.path=value` settings applied on top (value in YAML
    /// syntax, e.g. `frames.count=16`, `questions=["What is <Prompt0> doing?"]`).
    public static func load(path: String, overrides: [String] = []) throws -> PipelineSpec {
        try InputFile.check(path, maxBytes: maxFileSize, what: "a pipeline spec")
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDir: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
            throw PipelineError.io(path: path, reason: !exists ? "no such pipeline file" : isDir.boolValue ? "is a directory, not a pipeline file" : "cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpecError(source: path, line: nil, key: "", problem: "not UTF-8 text")
        }
        // An empty file is a truncated or wrong file, not "every default".
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw SpecError(source: path, line: nil, key: "", problem: "the file is empty")
        }
        var spec = try parse(text, source: path, overrides: overrides)
        let dir = InputFile.folder(of: path)
        if let m = spec.model, !m.hasPrefix("/") {
            spec.model = dir.isEmpty ? m : (dir as NSString).appendingPathComponent(m)
        }
        if let m = spec.tracker.sam2Model, !m.hasPrefix("/") {
            spec.tracker.sam2Model = dir.isEmpty ? m : (dir as NSString).appendingPathComponent(m)
        }
        return spec
    }

    /// Parses spec text (`source` names it in errors).
    public static func parse(_ text: String, source: String, overrides: [String] = []) throws -> PipelineSpec {
        var tree = try YAMLTree.parse(text, source: source)
        for o in overrides {
            guard let eq = o.firstIndex(of: "="), eq != o.startIndex else {
                throw SpecError(source: "--set", line: nil, key: o, problem: "expected key.path=value")
            }
            let key = String(o[..<eq]).trimmingCharacters(in: .whitespaces)
            let value = try YAMLTree.parse(String(o[o.index(after: eq)...]), source: "--set \(key)")
            let path = key.split(separator: ".").map(String.init)
            // `model: DIR` is the short form of `model: {path: DIR}`: setting `model.precision`
            // (or another model key) keeps DIR.
            if path.count > 1, path[0] == "model", case let .scalar(dir, line)? = tree.child("model") {
                tree = tree.setting(["model"], to: .mapping([("path", line, .scalar(dir, line: line))], line: line))
            }
            tree = tree.setting(path, to: value.withoutLines)
        }
        var spec = try read(tree, source: source)
        spec.source = source
        return spec
    }

    static func read(_ tree: YAMLTree, source: String) throws -> PipelineSpec {
        var spec = PipelineSpec()
        var root = try YAMLMapping(tree, source: source, path: "")
        if let v = try root.int("version") {
            guard v == 1 else { throw root.error("version", "this gar reads version 1 specs, got \(v)") }
        }
        spec.description = try root.string("description") ?? ""
        // `model: DIR`, or the long form `model: {path: DIR, precision: bf16}`.
        if case .mapping = root.node("model") {
            var m = try root.mapping("model")!
            spec.model = try m.string("path")
            if let p = try m.string("precision") {
                do { spec.precision = try Precision.parse(p) } catch { throw m.error("precision", error.description) }
            }
            try m.finish()
        } else {
            spec.model = try root.string("model")
        }

        if var f = try root.mapping("frames") {
            if let c = try f.int("count", min: 1) { spec.frames.count = c }
            spec.frames.fps = try f.double("fps", positive: true)
            if let r = try f.choice("rule", ["plm", "videorefer"]) { spec.frames.rule = r }
            if let b = try f.bool("from_annotation") { spec.frames.fromAnnotation = b }
            if let b = try f.bool("fit_context") { spec.frames.fitContext = b }
            try f.finish()
        }
        if var t = try root.mapping("tracker") {
            if let fps = try t.double("fps", nonNegative: true) { spec.tracker.fps = fps }
            if let m = try t.int("max_side", min: 16) { spec.tracker.maxSide = m }
            if let m = try t.int("max_frames", min: 2) { spec.tracker.maxFrames = m }
            if let k = try t.choice("kind", TrackerKind.allCases.map(\.rawValue)) { spec.tracker.kind = TrackerKind(rawValue: k)! }
            if let m = try t.string("sam2_model") {
                guard !m.isEmpty else { throw t.error("sam2_model", "needs a directory") }
                spec.tracker.sam2Model = m
            }
            try t.finish()
        }
        if var p = try root.mapping("prompt") {
            var tpl = VideoPromptTemplate.v1
            if let s = try p.string("text") { tpl.text = s }
            if let s = try p.string("region_name") { tpl.regionName = s }
            if let s = try p.string("region_separator") { tpl.regionSeparator = s }
            if let s = try p.string("region_line") { tpl.regionLine = s }
            do {
                try tpl.validate()
            } catch {
                // "prompt template FIELD: problem" — point at that field's line.
                let message = "\(error)"
                let field = ["text", "region_name", "region_separator", "region_line"]
                    .first { message.hasPrefix("prompt template \($0):") } ?? "text"
                throw p.error(field, message)
            }
            spec.prompt.template = tpl
            if let s = try p.string("multiple_choice_suffix") { spec.prompt.multipleChoiceSuffix = s }
            try p.finish()
        }
        if let q = try root.strings("questions") {
            for (i, s) in q.enumerated() where s.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw root.error("questions", "question \(i) is empty")
            }
            spec.questions = q
        }
        if var g = try root.mapping("generation") {
            if let n = try g.int("max_new_tokens", min: 1) { spec.generation.maxNewTokens = n }
            if let t = try g.double("temperature", nonNegative: true) { spec.generation.temperature = Float(t) }
            if let p = try g.double("top_p", positive: true) {
                guard p <= 1 else { throw g.error("top_p", "must be in (0, 1], got \(p)") }
                spec.generation.topP = Float(p)
            }
            if let s = try g.int("seed", min: 0) { spec.generation.seed = UInt64(s) }
            if let b = try g.bool("double_bos") { spec.generation.doubleBOS = b }
            try g.finish()
        }
        if var r = try root.mapping("replay") {
            if let b = try r.bool("corrected_box_scaling") { spec.correctedBoxScaling = b }
            try r.finish()
        }
        if var v = try root.mapping("videorefer") {
            if let m = try v.choice("mask_mode", ["multi", "single"]) { spec.videorefer.maskMode = m }
            try v.finish()
        }
        try root.finish()
        return spec
    }
}
