// `gar bench e2e`: the user's real job — one region of a clip tracked and captioned over N frames
// (`gar caption`'s pipeline, VideoRegionJob) — timed per stage and end to end, with the peak RSS
// and the token counts; optionally a second question on the same clip and region (it reuses the
// feature cache and the KV cache of the shared prompt prefix: its time as a percentage of the
// first's), and the PyTorch reference on the same model work (bench/pytorch/bench_gar.py):
//   vision   the tiles gar encoded (one per sampled frame), in one batch;
//   prefill  the same number of prompt rows (random token embeddings: speed does not depend on
//            values);
//   generate the same number of greedy steps after that prefill.
// Decoding, tracking and prompt assembly are gar's only (the reference has no video front end).
// A benchmark, never a test.
import Basics
import Foundation
import Models
import Tensors

public struct E2EBenchmarkOptions: Sendable {
    public var modelDirectory: String
    /// Video file and the region on it (`<Prompt0>`, with its prompt frame), as `gar caption` takes them.
    public var clip: String
    public var region: ObjectSpec
    public var regionText: String
    public var frames = 16
    public var maxNewTokens = 32
    /// nil = the caption spec's question.
    public var question: String?
    /// Asked after the first question in the same run (prefix reuse); nil = not measured.
    public var secondQuestion: String?
    public var threads: Int
    public var precision: Precision = .f32
    /// Python interpreter with the reference stack; nil = skip the PyTorch side.
    public var python: String?
    /// bench_gar.py; nil = look for bench/pytorch/bench_gar.py near the working directory or the binary.
    public var pytorchScript: String?

    public init(modelDirectory: String, clip: String, region: ObjectSpec, regionText: String, threads: Int) {
        self.modelDirectory = modelDirectory
        self.clip = clip
        self.region = region
        self.regionText = regionText
        self.threads = threads
    }
}

public struct E2EBenchmarkResult: Codable, Sendable {
    /// gar's stages, seconds.
    public struct GarStages: Codable, Sendable {
        public var load: Double
        /// Decoding the model's frames at full size (when the tracker ran at a smaller size; 0
        /// when its frames were kept).
        public var decode: Double
        /// Decoding the tracking frames at the tracking size and tracking on them (streamed together).
        public var track: Double
        /// Prompt assembly: frames and masks to tiles, template, boxes.
        public var preprocess: Double
        public var vision: Double
        /// Region features spliced into the prompt.
        public var replay: Double
        public var prefill: Double
        public var generate: Double
        /// vision + prefill + generate (what the PyTorch side measures too).
        public var modelStages: Double
        /// The first question from opening the clip to its last token, without loading the model.
        public var endToEnd: Double
        public var endToEndWithLoad: Double
    }
    /// The PyTorch reference's stages, seconds (same tiles, prompt rows and greedy steps).
    public struct PyTorchStages: Codable, Sendable {
        public var load: Double
        public var vision: Double
        public var prefill: Double
        public var generate: Double
        public var modelStages: Double
        public var peakRSSMB: Double

        enum CodingKeys: String, CodingKey {
            case load, vision, prefill, generate, modelStages
            case peakRSSMB = "peak_rss_mb"
        }
    }
    public struct SecondQuestion: Codable, Sendable {
        public var question: String
        public var promptTokens: Int
        public var generatedTokens: Int
        public var framesEncoded: Int
        public var vision: Double
        public var prefill: Double
        public var generate: Double
        /// Its whole time (preprocess, vision or cache, replay, prefill of the rows after the shared
        /// prefix, generation).
        public var seconds: Double
        /// `seconds` as a percentage of the first question's end to end (issue 12 target ≤ 10 %).
        public var percentOfFirst: Double
    }

    public var model: String
    public var clip: String
    public var clipWidth: Int
    public var clipHeight: Int
    public var clipFrames: Int
    public var region: String
    public var question: String
    public var threads: Int
    public var precision: String
    public var kernels: String
    public var framesRequested: Int
    /// Frames the model saw (fewer than requested when the prompt would not fit the context).
    public var frames: Int
    public var trackedFrames: Int
    public var tilesEncoded: Int
    public var promptTokens: Int
    public var generatedTokens: Int
    public var maxNewTokens: Int
    public var stoppedOnEos: Bool
    public var gar: GarStages
    public var peakRSSMB: Double
    /// Size of the checkpoint's safetensors files (the weights as stored).
    public var checkpointMB: Double
    public var secondQuestion: SecondQuestion?
    public var pytorch: PyTorchStages?
    /// What the PyTorch numbers cover.
    public var pytorchCompared: String
    public var pytorchRaw: String?
    public var pytorchSkipped: String?
    public var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case model, clip, clipWidth, clipHeight, clipFrames, region, question, threads, precision, kernels, framesRequested, frames
        case trackedFrames, tilesEncoded, promptTokens, generatedTokens, maxNewTokens, stoppedOnEos, gar, checkpointMB, secondQuestion
        case pytorch, pytorchCompared, pytorchRaw, pytorchSkipped, warnings
        case peakRSSMB = "peak_rss_mb"
    }

    /// PyTorch time / gar time per model stage (> 1 = gar faster).
    public var ratios: [String: Double]? {
        guard let p = pytorch else { return nil }
        func r(_ p: Double, _ g: Double) -> Double { g > 0 ? p / g : 0 }
        return ["vision": r(p.vision, gar.vision), "prefill": r(p.prefill, gar.prefill), "generate": r(p.generate, gar.generate),
                "model_stages": r(p.modelStages, gar.modelStages)]
    }

    public func table() -> String {
        func f(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }
        var lines = ["gar bench e2e — \(clip) (\(clipWidth)×\(clipHeight), \(clipFrames) frames), region \(region)",
                     "model \(model), threads \(threads), gar precision \(precision): \(kernels)",
                     "\(frames) frames (of \(framesRequested) asked), \(trackedFrames) tracked, \(tilesEncoded) tiles encoded, "
                         + "prompt \(promptTokens) tokens, \(generatedTokens) generated (max \(maxNewTokens)\(stoppedOnEos ? ", stopped on EOS" : ""))",
                     ""]
        lines.append("stage                       gar s      pytorch s  ratio (pytorch / gar)")
        let r = ratios
        func row(_ name: String, _ g: Double, _ p: Double?, _ ratio: Double?) {
            let ps = p.map { f($0) } ?? "-", rs = ratio.map { f($0) + "×" } ?? "-"
            lines.append(name.padding(toLength: 28, withPad: " ", startingAt: 0) + f(g).padding(toLength: 11, withPad: " ", startingAt: 0)
                         + ps.padding(toLength: 11, withPad: " ", startingAt: 0) + rs)
        }
        row("load", gar.load, pytorch?.load, nil)
        row("track (decode + track)", gar.track, nil, nil)
        row("decode (model frames)", gar.decode, nil, nil)
        row("preprocess + replay", gar.preprocess + gar.replay, nil, nil)
        row("vision (\(tilesEncoded) tiles)", gar.vision, pytorch?.vision, r?["vision"])
        row("prefill (\(promptTokens) tokens)", gar.prefill, pytorch?.prefill, r?["prefill"])
        row("generate (\(max(generatedTokens - 1, 0)) steps)", gar.generate, pytorch?.generate, r?["generate"])
        row("vision + prefill + generate", gar.modelStages, pytorch?.modelStages, r?["model_stages"])
        row("end to end (no load)", gar.endToEnd, nil, nil)
        row("end to end with load", gar.endToEndWithLoad, nil, nil)
        lines.append("peak RSS MB                 " + f(peakRSSMB, 0).padding(toLength: 11, withPad: " ", startingAt: 0)
                     + (pytorch.map { f($0.peakRSSMB, 0) } ?? "-"))
        lines.append("checkpoint MB (stored)      " + f(checkpointMB, 0) + "   (peak RSS − checkpoint: \(f(peakRSSMB - checkpointMB, 0)) MB)")
        if let s = secondQuestion {
            lines.append("")
            lines.append("second question \"\(s.question)\": \(f(s.seconds)) s = \(f(s.percentOfFirst, 1)) % of the first's end to end "
                         + "(vision \(f(s.vision)) s, \(s.framesEncoded) tiles encoded; prefill \(f(s.prefill)) s; "
                         + "generate \(f(s.generate)) s, \(s.generatedTokens) tokens; prompt \(s.promptTokens) tokens)")
        }
        lines.append("")
        if let s = pytorchSkipped { lines.append("pytorch: skipped (\(s))") } else { lines.append("pytorch: \(pytorchCompared)") }
        for w in warnings { lines.append("warning: \(w)") }
        return lines.joined(separator: "\n")
    }

    /// The result with its derived `ratios` (schema `bench e2e` version 1, README "JSON outputs").
    public func json() throws -> String {
        try JSONOutput.string(WithDerived(result: self, schemaVersion: 1, ratios: ratios), pretty: true)
    }
}

public enum E2EBenchmark {
    public static let pytorchCompared = "bench/pytorch/bench_gar.py on the same model work: the tiles gar encoded in one batch, "
        + "a prefill of the same prompt length (random token embeddings) and the same number of greedy steps; "
        + "decode, track, preprocess and replay are gar only"

    public static func run(_ o: E2EBenchmarkOptions, log: (String) -> Void = printErr) throws -> E2EBenchmarkResult {
        guard o.frames >= 1, o.maxNewTokens >= 1 else {
            throw PipelineError.invalidInput(what: "gar bench e2e", reason: "--frames and --max-new-tokens must be at least 1")
        }
        var spec = try PipelineSpec.parse(PipelineSpec.BuiltIn.captionTrackedObject.text, source: "built-in caption-tracked-object")
        spec.frames.count = o.frames
        spec.frames.fps = nil
        spec.generation.maxNewTokens = o.maxNewTokens
        let first = o.question ?? spec.questions[0]
        var request = RegionRequest(input: o.clip, spec: spec)
        request.regions = [o.region]
        request.regionTexts = [o.regionText]
        request.questions = [VideoQuestion(first)] + (o.secondQuestion.map { [VideoQuestion($0)] } ?? [])
        request.threads = o.threads
        request.precision = o.precision
        request.quiet = false

        // Bad inputs (clip, region) fail here, before the model loads, as in `gar caption`.
        var ignored: [String] = []
        _ = try VideoRegionJob.readRegions(request, try VideoRegionJob.openSource(request, warnings: &ignored))

        log("bench: loading \(o.modelDirectory)…")
        Threading.set(o.threads)
        let engine = try VideoRegionEngine(modelDirectory: o.modelDirectory, precision: o.precision)
        log("bench: gar caption of \(o.clip), \(o.frames) frames…")
        let answer = try VideoRegionJob.run(request, engine: engine)
        let peak = Double(ProcessMemory.peakResidentBytes()) / 1_048_576

        let a = answer.answers[0], t = answer.timings
        func seconds(_ m: VideoAnswer.ModelTimings) -> Double { m.preprocess + m.vision + m.replay + m.prefill + m.generate }
        let secondSeconds = answer.answers.count > 1 ? seconds(answer.answers[1].timings) : 0
        let endToEnd = t.total - secondSeconds
        let gar = E2EBenchmarkResult.GarStages(
            load: engine.loadSeconds, decode: t.decode, track: t.track, preprocess: a.timings.preprocess, vision: a.timings.vision,
            replay: a.timings.replay, prefill: a.timings.prefill, generate: a.timings.generate,
            modelStages: a.timings.vision + a.timings.prefill + a.timings.generate, endToEnd: endToEnd,
            endToEndWithLoad: endToEnd + engine.loadSeconds)
        let second: E2EBenchmarkResult.SecondQuestion? = answer.answers.count > 1 ? {
            let b = answer.answers[1]
            return .init(question: b.question, promptTokens: b.promptTokens, generatedTokens: b.tokenIds.count, framesEncoded: b.framesEncoded,
                         vision: b.timings.vision, prefill: b.timings.prefill, generate: b.timings.generate, seconds: secondSeconds,
                         percentOfFirst: endToEnd > 0 ? 100 * secondSeconds / endToEnd : 0)
        }() : nil

        // The PyTorch reference on the same model work, after gar (it needs gar's prompt length).
        var pytorch: E2EBenchmarkResult.PyTorchStages?
        var raw: String?
        var skipped: String?
        let steps = max(a.tokenIds.count - 1, 1)
        if let python = o.python {
            if let script = o.pytorchScript ?? ModelBenchmark.findScript() {
                log("bench: running the PyTorch reference (\(python) \(script): \(a.framesEncoded) tiles, prefill \(a.promptTokens), \(steps) steps)…")
                var m = ModelBenchmarkOptions(modelDirectory: o.modelDirectory, threads: o.threads)
                m.tiles = max(a.framesEncoded, 1)
                m.prefillLength = a.promptTokens
                m.decodeSteps = steps
                m.precision = o.precision
                do {
                    let (side, text) = try ModelBenchmark.runPyTorch(python: python, script: script, m)
                    let vision = side.visionMsPerTile * Double(m.tiles) / 1000
                    let prefill = Double(m.prefillLength) / side.prefillTokensPerSecond
                    let generate = Double(steps) / side.decodeTokensPerSecond
                    pytorch = .init(load: side.loadSeconds, vision: vision, prefill: prefill, generate: generate,
                                    modelStages: vision + prefill + generate, peakRSSMB: side.peakRSSMB)
                    raw = text
                } catch {
                    skipped = "\(error)"
                }
            } else {
                skipped = "bench/pytorch/bench_gar.py not found; pass --pytorch-script"
            }
        } else {
            skipped = "no --python PYTHON given"
        }

        return E2EBenchmarkResult(
            model: o.modelDirectory, clip: o.clip, clipWidth: answer.source.width, clipHeight: answer.source.height,
            clipFrames: answer.source.frameCount, region: o.regionText, question: first, threads: o.threads,
            precision: engine.model.precision.rawValue, kernels: engine.model.kernels, framesRequested: answer.framesRequested,
            frames: answer.frames.count, trackedFrames: answer.trackedFrames, tilesEncoded: a.framesEncoded, promptTokens: a.promptTokens,
            generatedTokens: a.tokenIds.count, maxNewTokens: o.maxNewTokens, stoppedOnEos: a.stoppedOnEos, gar: gar, peakRSSMB: peak,
            checkpointMB: checkpointMB(o.modelDirectory), secondQuestion: second, pytorch: pytorch, pytorchCompared: pytorchCompared,
            pytorchRaw: raw, pytorchSkipped: skipped, warnings: answer.warnings)
    }

    /// Size of the directory's *.safetensors files, MB.
    static func checkpointMB(_ directory: String) -> Double {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let bytes = names.filter { $0.hasSuffix(".safetensors") }.reduce(0) { sum, name in
            let size = (try? FileManager.default.attributesOfItem(atPath: (directory as NSString).appendingPathComponent(name)))?[.size] as? NSNumber
            return sum + (size?.intValue ?? 0)
        }
        return Double(bytes) / 1_048_576
    }
}
