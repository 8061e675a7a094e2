// `gar bench model`: speed and memory of the GAR core on a checkpoint, side by side with the PyTorch
// reference (bench/pytorch/bench_gar.py) run in the same command with the same thread count and
// the same workload:
//   vision   mask embedding + tower + projector + pooling on K 448² tiles in one call (after a
//            1-tile warm-up), ms per tile;
//   prefill  one decoder pass over L random token embeddings with a fresh KV cache (after a
//            64-token warm-up), tokens/s;
//   decode   S greedy steps on that cache, tokens/s;
//   memory   peak RSS of the process vs the f32 size of the weights.
// With a llama-cpp-python interpreter (`--llama-cpp PY`), the LLM part against llama.cpp too
// (bench/llamacpp/bench_llamacpp.py: the checkpoint's decoder written as BF16 and Q8_0 GGUF): prefill
// of 512, 1024 and L token ids on an empty cache, S greedy steps after L; gar measures the extra
// prefill lengths, and compares llama.cpp's first-step logits on the ids of its 64-token warm-up
// with its own (max |Δ| / max |gar logit|), which shows the GGUF is the same model.
// Inputs are random (speed does not depend on values). A benchmark, never a test.
import Basics
import Checkpoints
import Foundation
import Models
import Tensors

public struct ModelBenchmarkOptions: Sendable {
    public var modelDirectory: String
    public var threads: Int
    public var tiles = 2
    public var prefillLength = 3700
    public var decodeSteps = 16
    /// Prompt rows per prefill pass (the decoder's chunk: less scratch memory when smaller).
    public var prefillChunk = DecoderState.defaultChunkRows
    /// Compute precision of gar's side; the PyTorch side runs in the same precision (bf16:
    /// `model.to(torch.bfloat16)`).
    public var precision: Precision = .f32
    /// Python interpreter with the reference stack; nil = skip the PyTorch side.
    public var python: String?
    /// bench_gar.py; nil = look for bench/pytorch/bench_gar.py near the working directory or the binary.
    public var pytorchScript: String?
    /// Python interpreter with llama-cpp-python, gguf and numpy; nil = skip the llama.cpp side.
    public var llamaCpp: String?
    /// bench_llamacpp.py; nil = look for bench/llamacpp/bench_llamacpp.py like bench_gar.py.
    public var llamaCppScript: String?
    /// Where the GGUF files are written (once per checkpoint, then reused); nil = <tmp>/gar-gguf.
    public var ggufDirectory: String?
    /// Prefill lengths compared with llama.cpp besides `prefillLength`.
    public static let llamaCppPrefillLengths = [512, 1024]

    public init(modelDirectory: String, threads: Int) {
        self.modelDirectory = modelDirectory
        self.threads = threads
    }
}

public struct ModelBenchmarkResult: Codable, Sendable {
    public struct EnvironmentVariable: Codable, Sendable {
        public var name: String
        /// "(unset)" when not set.
        public var value: String
    }
    public struct Side: Codable, Sendable {
        public var visionMsPerTile: Double
        public var prefillTokensPerSecond: Double
        public var decodeTokensPerSecond: Double
        public var peakRSSMB: Double
        public var loadSeconds: Double
        /// Peak RSS divided by the f32 size of all parameters.
        public var peakRSSOverFP32Weights: Double

        enum CodingKeys: String, CodingKey {   // "peak_rss_mb", not the strategy's "peak_rssmb"
            case visionMsPerTile, prefillTokensPerSecond, decodeTokensPerSecond, loadSeconds, peakRSSOverFP32Weights
            case peakRSSMB = "peak_rss_mb"
        }
    }

    public var model: String
    public var threads: Int
    /// gar's compute precision and the kernels it ran on.
    public var precision: String
    public var kernels: String
    public var tiles: Int
    public var prefillLength: Int
    public var prefillChunk: Int
    public var decodeSteps: Int
    public var parameters: Int
    public var fp32WeightMB: Double
    /// The variables that change the kernels' speed, by name (a list: a JSON key is never data).
    public var environment: [EnvironmentVariable]
    public var gar: Side
    public var pytorch: Side?
    /// PyTorch's raw JSON output, if it ran.
    public var pytorchRaw: String?
    /// Why the PyTorch side did not run, if it did not.
    public var pytorchSkipped: String?
    /// gar's decode steps by stage (ms per step, bytes read, GB/s); the last row is the rest of a
    /// step (embedding, logits copy, argmax, hand-offs between stages).
    public var decodeProfile: [DecodeStage] = []

    public struct DecodeStage: Codable, Sendable {
        public var stage: String
        public var msPerStep: Double
        public var mbPerStep: Double
        /// Bytes read per second of the stage (weights; the KV cache for attention); nil when it reads none.
        public var gbPerSecond: Double?
    }

    public struct PrefillSpeed: Codable, Sendable {
        public var tokens: Int
        public var tokensPerSecond: Double
    }
    /// llama.cpp on one GGUF type of the checkpoint's decoder.
    public struct LlamaCppSide: Codable, Sendable {
        /// "BF16" or "Q8_0".
        public var type: String
        public var prefill: [PrefillSpeed]
        /// After a prefill of `prefillLength`, `decodeSteps` steps.
        public var decodeTokensPerSecond: Double
        public var ggufMB: Double
        public var loadSeconds: Double
        /// max |llama.cpp − gar| / max |gar| of the logits after the check ids (gar in `precision`).
        public var firstStepLogitsMaxRelativeDifference: Double?
    }
    /// With --llama-cpp: gar's prefill at every length llama.cpp ran (`prefillLength` included).
    public var garPrefill: [PrefillSpeed]?
    public var llamaCpp: [LlamaCppSide]?
    /// The token ids whose first-step logits were compared (gar's warm-up prompt).
    public var llamaCppCheckIds: [Int]?
    public var llamaCppRaw: String?
    /// Why the llama.cpp side did not run although asked for.
    public var llamaCppSkipped: String?

    /// gar speed / PyTorch speed (> 1 = gar faster); memory: gar / PyTorch (< 1 = gar smaller).
    public var ratios: [String: Double]? {
        guard let p = pytorch else { return nil }
        return ["vision": p.visionMsPerTile / gar.visionMsPerTile,
                "prefill": gar.prefillTokensPerSecond / p.prefillTokensPerSecond,
                "decode": gar.decodeTokensPerSecond / p.decodeTokensPerSecond,
                "peak_rss": gar.peakRSSMB / p.peakRSSMB]
    }

    public func table() -> String {
        var lines = ["gar bench model — \(model)",
                     "threads \(threads), \(tiles) tiles, prefill \(prefillLength) tokens (chunks of \(prefillChunk)), \(decodeSteps) decode steps; "
                         + "\(parameters) parameters (\(String(format: "%.0f", fp32WeightMB)) MB in f32)",
                     "gar precision \(precision): \(kernels)",
                     "pytorch precision \(precision == "bf16" ? "bf16 (model.to(torch.bfloat16))" : "f32")",
                     "env: " + environment.map { "\($0.name)=\($0.value)" }.joined(separator: " ")]
        func f(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }
        lines.append("")
        lines.append("metric                      gar        pytorch    ratio (gar vs pytorch)")
        func row(_ name: String, _ g: Double, _ p: Double?, _ ratio: Double?, digits: Int = 1) {
            let ps = p.map { f($0, digits) } ?? "-", rs = ratio.map { f($0, 2) + "×" } ?? "-"
            lines.append(name.padding(toLength: 28, withPad: " ", startingAt: 0) + f(g, digits).padding(toLength: 11, withPad: " ", startingAt: 0)
                         + ps.padding(toLength: 11, withPad: " ", startingAt: 0) + rs)
        }
        let r = ratios
        row("vision ms/tile (lower wins)", gar.visionMsPerTile, pytorch?.visionMsPerTile, r?["vision"], digits: 0)
        row("prefill tokens/s", gar.prefillTokensPerSecond, pytorch?.prefillTokensPerSecond, r?["prefill"])
        row("decode tokens/s", gar.decodeTokensPerSecond, pytorch?.decodeTokensPerSecond, r?["decode"], digits: 2)
        row("peak RSS MB (lower wins)", gar.peakRSSMB, pytorch?.peakRSSMB, r?["peak_rss"], digits: 0)
        row("peak RSS / f32 weights", gar.peakRSSOverFP32Weights, pytorch?.peakRSSOverFP32Weights, nil, digits: 2)
        row("load s", gar.loadSeconds, pytorch?.loadSeconds, nil)
        if let s = pytorchSkipped { lines.append("pytorch: skipped (\(s))") }
        if !decodeProfile.isEmpty {
            lines.append("")
            lines.append("gar decode step by stage    ms/step    MB/step    GB/s")
            for d in decodeProfile {
                lines.append(d.stage.padding(toLength: 28, withPad: " ", startingAt: 0) + f(d.msPerStep, 2).padding(toLength: 11, withPad: " ", startingAt: 0)
                             + f(d.mbPerStep, 1).padding(toLength: 11, withPad: " ", startingAt: 0) + (d.gbPerSecond.map { f($0, 1) } ?? "-"))
            }
        }
        lines.append("(ratios: speed of gar / speed of pytorch for vision, prefill, decode; gar / pytorch for peak RSS)")
        if let llama = llamaCpp {
            lines += llamaCppTable(llama)
        } else if let s = llamaCppSkipped {
            lines.append("llama.cpp: skipped (\(s))")
        }
        return lines.joined(separator: "\n")
    }

    /// The LLM part against llama.cpp: tokens/s per prefill length and decode, ratios gar / llama.cpp.
    func llamaCppTable(_ llama: [LlamaCppSide]) -> [String] {
        func f(_ v: Double?, _ digits: Int = 1) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "-" }
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: n, withPad: " ", startingAt: 0) }
        var lines = ["", "LLM part vs llama.cpp (llama-cpp-python, same thread count, token ids fed directly; ratio = gar / llama.cpp)"]
        var header = pad("metric", 28) + pad("gar \(precision)", 11)
        for l in llama { header += pad("llama \(l.type)", 14) }
        for l in llama { header += pad("gar/\(l.type)", 11) }
        lines.append(header)
        func row(_ name: String, _ g: Double?, _ values: [Double?], digits: Int = 1) {
            var line = pad(name, 28) + pad(f(g, digits), 11)
            for v in values { line += pad(f(v, digits), 14) }
            for v in values { line += pad(g.flatMap { g in v.map { f(g / $0, 2) + "×" } } ?? "-", 11) }
            lines.append(line)
        }
        for p in garPrefill ?? [] {
            row("prefill \(p.tokens) tokens/s", p.tokensPerSecond, llama.map { l in l.prefill.first { $0.tokens == p.tokens }?.tokensPerSecond })
        }
        row("decode tokens/s", gar.decodeTokensPerSecond, llama.map(\.decodeTokensPerSecond), digits: 2)
        var check = pad("logits max rel. Δ vs gar", 28) + pad("(\(llamaCppCheckIds?.count ?? 0) ids)", 11)
        for l in llama { check += pad(l.firstStepLogitsMaxRelativeDifference.map { String(format: "%.2e", $0) } ?? "-", 14) }
        lines.append(check)
        lines.append("(max |llama.cpp − gar| / max |gar| of the logits after gar's warm-up ids, gar in \(precision); run --precision f32 for the exact reference)")
        return lines
    }
}

public enum ModelBenchmark {
    public static func run(_ o: ModelBenchmarkOptions, log: (String) -> Void = printErr) throws -> ModelBenchmarkResult {
        guard o.tiles >= 1, o.prefillLength >= 1, o.decodeSteps >= 1, o.prefillChunk >= 1 else {
            throw PipelineError.invalidInput(what: "gar bench model", reason: "--tiles, --prefill-len, --prefill-chunk and --decode-steps must be at least 1")
        }
        // The prompt ids (drawn first: the llama.cpp side gets the warm-up's 64); below 1000, as bench_gar.py.
        let vocab = try GARConfig.load(o.modelDirectory).spec.text.vocabSize
        var rng = SplitMix64(seed: 0)
        let ids = (0 ..< o.prefillLength).map { _ in Int(rng.next() % UInt64(min(vocab, 1000))) }
        let env = ProcessInfo.processInfo.environment
        let envKeys = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"]
        let environment = envKeys.sorted().map { ModelBenchmarkResult.EnvironmentVariable(name: $0, value: env[$0] ?? "(unset)") }

        // PyTorch first, in a child process, so both sides have the machine to themselves.
        var pytorch: ModelBenchmarkResult.Side?
        var raw: String?
        var skipped: String?
        if let python = o.python {
            if let script = o.pytorchScript ?? findScript() {
                log("bench: running the PyTorch reference (\(python) \(script))…")
                do {
                    let (side, text) = try runPyTorch(python: python, script: script, o)
                    pytorch = side
                    raw = text
                } catch {
                    skipped = "\(error)"
                }
            } else {
                skipped = "bench/pytorch/bench_gar.py not found; pass --pytorch-script"
            }
        } else {
            skipped = "no --pytorch PYTHON given"
        }

        // llama.cpp next (also before gar): its check logits are compared once gar has run.
        let checkIds = Array(ids.prefix(64))
        var llama: LlamaCppRun?
        var llamaSkipped: String?
        if let python = o.llamaCpp {
            if let script = o.llamaCppScript ?? findScript("bench/llamacpp/bench_llamacpp.py") {
                log("bench: running llama.cpp (\(python) \(script); writes the GGUF files the first time)…")
                do {
                    llama = try runLlamaCpp(python: python, script: script, o, checkIds: checkIds)
                } catch {
                    llamaSkipped = "\(python): \(error)"
                }
            } else {
                llamaSkipped = "bench/llamacpp/bench_llamacpp.py not found; pass --llama-cpp-script"
            }
        }
        defer { if let llama { try? FileManager.default.removeItem(at: llama.outDirectory) } }

        log("bench: loading \(o.modelDirectory)…")
        Threading.set(o.threads)
        let model = try GARModel.load(directory: o.modelDirectory, precision: o.precision)
        let params = GARKeySchema(spec: model.spec).parameterCounts.values.reduce(0, +)
        let fp32MB = Double(params) * 4 / 1_048_576

        // Vision: the same inputs as bench_gar.py (pixels in [-1, 1] → here random RGB bytes; a
        // mask covering rows/cols 100..<324).
        let S = model.spec.vision.imageHeight
        func tile() -> TileInput {
            let rgb = ImageU8(width: S, height: S, channels: 3, pixels: (0 ..< S * S * 3).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            var mask = [UInt8](repeating: 0, count: S * S)
            for y in 100 ..< min(324, S) { for x in 100 ..< min(324, S) { mask[y * S + x] = 1 } }
            return TileInput(rgb: rgb, mask: mask)
        }
        let tiles = (0 ..< o.tiles).map { _ in tile() }
        log("bench: vision (1-tile warm-up, then \(o.tiles) tiles)…")
        _ = model.imageFeatures([tiles[0]], tileBatch: 1)
        var t = Date()
        _ = model.imageFeatures(tiles, tileBatch: o.tiles)
        let visionMs = Date().timeIntervalSince(t) * 1000 / Double(o.tiles)

        // Prefill and decode.
        log("bench: prefill \(o.prefillLength) tokens…")
        let warm = model.makeDecoderState(capacity: 64)
        let warmLogits = model.forward(model.embed(checkIds), rows: checkIds.count, state: warm)
        let state = model.makeDecoderState(capacity: o.prefillLength + o.decodeSteps, chunkRows: o.prefillChunk)
        let embeds = model.embed(ids)
        t = Date()
        var logits = model.forward(embeds, rows: ids.count, state: state)
        let prefillS = Date().timeIntervalSince(t)
        log("bench: decode \(o.decodeSteps) steps…")
        let profile = DecodeProfile()
        state.profile = profile
        t = Date()
        for _ in 0 ..< o.decodeSteps {
            let next = GARModel.argmax(logits)
            logits = model.forward(model.embed([next]), rows: 1, state: state)
        }
        let decodeS = Date().timeIntervalSince(t)
        state.profile = nil
        let steps = Double(max(profile.steps, 1))
        var stages = DecodeProfile.Stage.allCases.map { stage in
            ModelBenchmarkResult.DecodeStage(stage: stage.rawValue, msPerStep: profile.seconds(stage) * 1000 / steps,
                                             mbPerStep: profile.bytes(stage) / 1e6 / steps,
                                             gbPerSecond: profile.bytes(stage) > 0 ? profile.bytes(stage) / 1e9 / profile.seconds(stage) : nil)
        }
        let staged = stages.reduce(0) { $0 + $1.msPerStep }
        stages.append(.init(stage: "other (embed, logits, argmax)", msPerStep: decodeS * 1000 / Double(o.decodeSteps) - staged, mbPerStep: 0, gbPerSecond: nil))

        // gar at llama.cpp's other prefill lengths, each on a fresh cache.
        var garPrefill: [ModelBenchmarkResult.PrefillSpeed]?
        if llama != nil {
            var speeds = [ModelBenchmarkResult.PrefillSpeed]()
            for n in ModelBenchmarkOptions.llamaCppPrefillLengths {
                if n == o.prefillLength { continue }
                log("bench: prefill \(n) tokens (for llama.cpp)…")
                let nIds = (0 ..< n).map { ids.isEmpty ? 0 : ids[$0 % ids.count] }
                let s = model.makeDecoderState(capacity: n)
                let e = model.embed(nIds)
                let t0 = Date()
                _ = model.forward(e, rows: n, state: s)
                speeds.append(.init(tokens: n, tokensPerSecond: Double(n) / Date().timeIntervalSince(t0)))
            }
            speeds.append(.init(tokens: o.prefillLength, tokensPerSecond: Double(o.prefillLength) / prefillS))
            garPrefill = speeds.sorted { $0.tokens < $1.tokens }
        }
        let peak = Double(ProcessMemory.peakResidentBytes()) / 1_048_576
        let gar = ModelBenchmarkResult.Side(visionMsPerTile: visionMs, prefillTokensPerSecond: Double(o.prefillLength) / prefillS,
                                            decodeTokensPerSecond: Double(o.decodeSteps) / decodeS, peakRSSMB: peak,
                                            loadSeconds: model.loadSeconds, peakRSSOverFP32Weights: peak / fp32MB)
        return ModelBenchmarkResult(model: o.modelDirectory, threads: o.threads, precision: model.precision.rawValue,
                                    kernels: model.kernels, tiles: o.tiles, prefillLength: o.prefillLength, prefillChunk: o.prefillChunk,
                                    decodeSteps: o.decodeSteps, parameters: params, fp32WeightMB: fp32MB, environment: environment,
                                    gar: gar, pytorch: pytorch, pytorchRaw: raw, pytorchSkipped: skipped, decodeProfile: stages,
                                    garPrefill: garPrefill, llamaCpp: llama?.sides(comparedWith: warmLogits),
                                    llamaCppCheckIds: llama == nil ? nil : checkIds, llamaCppRaw: llama?.raw, llamaCppSkipped: llamaSkipped)
    }

    /// What bench_llamacpp.py printed, and the folder of its check logits.
    struct LlamaCppRun {
        struct Entry {
            var side: ModelBenchmarkResult.LlamaCppSide
            var checkLogits: String?
        }
        var entries: [Entry]
        var raw: String
        var outDirectory: URL

        /// The sides with the logit check against gar's logits of the same ids.
        func sides(comparedWith gar: [Float]) -> [ModelBenchmarkResult.LlamaCppSide] {
            entries.map { e in
                var side = e.side
                if let path = e.checkLogits, let data = FileManager.default.contents(atPath: path), data.count == gar.count * 4 {
                    let theirs = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                    side.firstStepLogitsMaxRelativeDifference = ModelBenchmark.maxRelativeDifference(theirs, gar)
                }
                return side
            }
        }
    }

    /// max |a − b| / max |b| (the README's "max rel. error" of logits).
    public static func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Double {
        var diff: Float = 0, scale: Float = 0
        for (x, y) in zip(a, b) {
            diff = max(diff, abs(x - y))
            scale = max(scale, abs(y))
        }
        return scale > 0 ? Double(diff / scale) : Double(diff)
    }

    static func runLlamaCpp(python: String, script: String, _ o: ModelBenchmarkOptions, checkIds: [Int]) throws -> LlamaCppRun {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("gar-bench-llamacpp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        // The folder holds llama.cpp's logits; removed again on every failure (a launch failure too).
        do {
            let gguf = o.ggufDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("gar-gguf").path
            let lengths = Set(ModelBenchmarkOptions.llamaCppPrefillLengths + [o.prefillLength]).sorted()
            let p = Process()
            p.executableURL = URL(fileURLWithPath: python)
            p.arguments = [script, "--model", o.modelDirectory, "--gguf-dir", gguf, "--threads", "\(o.threads)",
                           "--prefill", lengths.map(String.init).joined(separator: ","), "--decode-context", "\(o.prefillLength)",
                           "--decode-steps", "\(o.decodeSteps)", "--check-ids", checkIds.map(String.init).joined(separator: ","),
                           "--out-dir", out.path]
            let result = try Subprocess.run(p)
            guard result.status == 0 else {
                throw PipelineError.invalidInput(what: script, reason: "exited with status \(result.status): \(result.lastErrorLine)")
            }
            let text = String(decoding: result.stdout, as: UTF8.self)
            guard let obj = try? JSONSerialization.jsonObject(with: result.stdout) as? [String: Any],
                  let list = obj["results"] as? [[String: Any]] else {
                throw PipelineError.invalidInput(what: script, reason: "unexpected output: \(text.prefix(200))")
            }
            var entries: [LlamaCppRun.Entry] = []
            for r in list {
                guard let type = r["type"] as? String, let decode = r["decode_tokens_per_s"] as? Double,
                      let prefill = r["prefill"] as? [[String: Any]], let mb = r["gguf_mb"] as? Double, let load = r["load_s"] as? Double else {
                    throw PipelineError.invalidInput(what: script, reason: "unexpected result: \(r)")
                }
                let speeds = prefill.compactMap { p -> ModelBenchmarkResult.PrefillSpeed? in
                    guard let n = p["tokens"] as? Int, let tps = p["tokens_per_s"] as? Double else { return nil }
                    return .init(tokens: n, tokensPerSecond: tps)
                }
                entries.append(.init(side: .init(type: type, prefill: speeds, decodeTokensPerSecond: decode, ggufMB: mb, loadSeconds: load),
                                     checkLogits: r["check_logits"] as? String))
            }
            return LlamaCppRun(entries: entries, raw: text, outDirectory: out)
        } catch {
            try? FileManager.default.removeItem(at: out)
            throw error
        }
    }

    /// `rel` (a script or sample of the repository) near the working directory or the binary.
    public static func findScript(_ rel: String = "bench/pytorch/bench_gar.py") -> String? {
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(rel)]
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0 ..< 6 {
            candidates.append(dir.appendingPathComponent(rel))
            dir = dir.deletingLastPathComponent()
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }?.path
    }

    static func runPyTorch(python: String, script: String, _ o: ModelBenchmarkOptions) throws -> (ModelBenchmarkResult.Side, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [script, "--model", o.modelDirectory, "--threads", "\(o.threads)", "--tiles", "\(o.tiles)",
                       "--prefill-len", "\(o.prefillLength)", "--decode-steps", "\(o.decodeSteps)", "--precision", o.precision.rawValue]
        let result = try Subprocess.run(p)
        guard result.status == 0 else {
            throw PipelineError.invalidInput(what: script, reason: "exited with status \(result.status): \(result.lastErrorLine)")
        }
        let data = result.stdout
        let text = String(decoding: data, as: UTF8.self)
        guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let vision = obj["vision_ms_per_tile"] as? Double, let prefill = obj["prefill_tokens_per_s"] as? Double,
              let decode = obj["decode_tokens_per_s"] as? Double, let peak = obj["peak_rss_mb"] as? Double,
              let fp32 = obj["fp32_weight_mb"] as? Double, let load = obj["load_s"] as? Double else {
            throw PipelineError.invalidInput(what: script, reason: "unexpected output: \(text.prefix(200))")
        }
        return (ModelBenchmarkResult.Side(visionMsPerTile: vision, prefillTokensPerSecond: prefill, decodeTokensPerSecond: decode,
                                          peakRSSMB: peak, loadSeconds: load, peakRSSOverFP32Weights: peak / fp32), text)
    }
}

extension ModelBenchmarkResult {
    /// The result with its derived `ratios` (schema `bench model` version 2, README "JSON outputs").
    public func json() throws -> String {
        try JSONOutput.string(WithDerived(result: self, schemaVersion: 2, ratios: ratios), pretty: true)
    }
}
