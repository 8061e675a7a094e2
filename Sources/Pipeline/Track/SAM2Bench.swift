// `gar bench track --sam2 DIR`: per-frame seconds of SAM 2.1's stages in gar (image encoder + neck,
// prompt → mask decoder, and for a video checkpoint memory attention over a full bank and the
// memory encoder), next to transformers' reference timed on the same inputs in the same command
// (bench/sam2_reference_bench.py, run with --python, fp32 and bf16, same thread count).
// The inputs (frames' pixel values, bank, mask) go to the script through a temporary safetensors
// file, removed afterwards.
import Checkpoints
import Foundation
import SAM2
import Tensors

public struct SAM2BenchOptions: Sendable {
    public var modelDirectory: String
    /// nil: `SAM2Model.defaultPrecision` (bf16 on CPUs with native bf16, else f32).
    public var precision: Precision?
    public var frames = 3
    /// Python interpreter with transformers 4.56.2; nil = gar only.
    public var python: String?
    /// sam2_reference_bench.py; nil = look for bench/sam2_reference_bench.py near the working directory or the binary.
    public var script: String?

    public init(modelDirectory: String, precision: Precision? = nil) {
        self.modelDirectory = modelDirectory
        self.precision = precision
    }
}

public struct SAM2BenchStage: Sendable, Codable {
    public var name: String
    /// Per-frame wall-clock seconds: gar (in the chosen precision), the reference in fp32 and in bf16 (nil: not run).
    public var garSeconds: [Double]
    public var referenceFp32Seconds: [Double]?
    public var referenceBf16Seconds: [Double]?
    /// Per-frame CPU seconds of the process (all threads), same order.
    public var garCpuSeconds: [Double]
    public var referenceFp32CpuSeconds: [Double]?
    public var referenceBf16CpuSeconds: [Double]?
}

public struct SAM2BenchReport: Sendable, Codable {
    public var model: String
    public var precision: String
    public var threads: Int
    public var frames: Int
    public var imageSize: Int
    /// Rows of the memory bank (spatial memories + pointer tokens) memory attention attends to.
    public var memoryKeys: Int
    public var loadAverage: String
    public var stages: [SAM2BenchStage]
    public var reference: String?
    public var referenceSkipped: String?
    /// README "JSON outputs" (`bench track --sam2`).
    public var schemaVersion = 1

    /// Median (the first frame included: every stage is already warm after loading, apart from oneDNN's first primitives).
    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
    }

    public var table: String {
        var s = "gar bench track --sam2: \(model), \(imageSize)² input, \(frames) frame(s), \(threads) threads, gar precision \(precision), load average \(loadAverage)\n"
        if let reference { s += "reference: \(reference)\n" }
        if let referenceSkipped { s += "reference skipped: \(referenceSkipped)\n" }
        s += "| stage (s per frame, median wall / CPU) | gar \(precision) | transformers fp32 | transformers bf16 | gar vs fp32 | gar vs bf16 |\n|---|---|---|---|---|---|\n"
        func cell(_ v: [Double]?, _ c: [Double]?) -> String {
            guard let v, !v.isEmpty else { return "–" }
            return String(format: "%.3f", Self.median(v)) + (c.map { $0.isEmpty ? "" : String(format: " / %.3f", Self.median($0)) } ?? "")
        }
        func ratio(_ v: [Double]?, _ g: [Double]) -> String {
            guard let v, !v.isEmpty, !g.isEmpty else { return "–" }
            return String(format: "%.2f×", Self.median(v) / Self.median(g))
        }
        for st in stages {
            s += "| \(st.name) | \(cell(st.garSeconds, st.garCpuSeconds)) | \(cell(st.referenceFp32Seconds, st.referenceFp32CpuSeconds)) | "
                + "\(cell(st.referenceBf16Seconds, st.referenceBf16CpuSeconds)) | "
                + "\(ratio(st.referenceFp32Seconds, st.garSeconds)) | \(ratio(st.referenceBf16Seconds, st.garSeconds)) |\n"
        }
        s += "(ratios: reference wall time / gar wall time; > 1 = gar faster; CPU = the process's CPU seconds, all threads)\n"
        return s
    }
}

public enum SAM2Bench {
    public static func run(_ o: SAM2BenchOptions, log: (String) -> Void = printErr) throws -> SAM2BenchReport {
        let precision = o.precision ?? SAM2Model.defaultPrecision
        let model = try SAM2Model.load(directory: o.modelDirectory, precision: precision)
        let video = try isVideoCheckpoint(o.modelDirectory)
            ? SAM2VideoComponents.load(directory: o.modelDirectory, precision: precision) : nil
        if video == nil { log("bench: \(o.modelDirectory) is an image-mode checkpoint (model_type sam2): memory attention and memory encoder are not timed") }
        let inputs = try SAM2Benchmark.inputs(model: model, video: video, frames: o.frames)

        var refFp32: [String: [Double]]? = nil, refBf16: [String: [Double]]? = nil
        var reference: String? = nil, skipped: String? = "no --python given"
        if let python = o.python {
            guard let script = o.script ?? ModelBenchmark.findScript("bench/sam2_reference_bench.py") else {
                throw PipelineError.invalidInput(what: "--python", reason: "bench/sam2_reference_bench.py not found near the working directory or the binary")
            }
            log("bench: running the transformers reference (\(python) \(script))…")
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("gar-sam2-bench-\(UUID().uuidString).safetensors")
            defer { try? FileManager.default.removeItem(at: file) }
            try writeInputs(inputs, to: file)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: python)
            p.arguments = [script, "--model", o.modelDirectory, "--inputs", file.path, "--threads", "\(Threading.count)"]
            let result = try Subprocess.run(p)
            guard result.status == 0 else {
                throw PipelineError.invalidInput(what: script, reason: "exited with status \(result.status): \(result.lastErrorLine)")
            }
            guard let obj = try? JSONSerialization.jsonObject(with: result.stdout) as? [String: Any],
                  let fp32 = obj["fp32"] as? [String: [Double]], let bf16 = obj["bf16"] as? [String: [Double]] else {
                throw PipelineError.invalidInput(what: script, reason: "unexpected output: \(String(decoding: result.stdout.prefix(200), as: UTF8.self))")
            }
            refFp32 = fp32
            refBf16 = bf16
            reference = "transformers \(obj["transformers"] ?? "?"), torch \(obj["torch"] ?? "?"), \(obj["threads"] ?? "?") threads; bf16 = CPU autocast"
            skipped = nil
        }

        log("bench: timing gar (\(precision.rawValue))…")
        let times = try SAM2Benchmark.run(model: model, video: video, inputs: inputs, progress: { log("bench: gar \($0)") })
        func stage(_ name: String, _ key: String, _ gar: [Double], _ garCPU: [Double]) -> SAM2BenchStage {
            SAM2BenchStage(name: name, garSeconds: gar, referenceFp32Seconds: refFp32?[key + "_s"], referenceBf16Seconds: refBf16?[key + "_s"],
                           garCpuSeconds: garCPU, referenceFp32CpuSeconds: refFp32?[key + "_cpu_s"], referenceBf16CpuSeconds: refBf16?[key + "_cpu_s"])
        }
        var stages = [stage("image encoder + neck", "encoder", times.encoder, times.encoderCPU),
                      stage("prompt → mask decoder (box, 3 masks)", "decoder", times.decoder, times.decoderCPU)]
        if video != nil {
            stages.append(stage("memory attention (\(inputs.memory.rowCount) keys)", "memory_attention", times.memoryAttention, times.memoryAttentionCPU))
            stages.append(stage("memory encoder", "memory_encoder", times.memoryEncoder, times.memoryEncoderCPU))
        }
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        return SAM2BenchReport(model: o.modelDirectory, precision: precision.rawValue, threads: Threading.count, frames: o.frames,
                               imageSize: model.config.imageSize, memoryKeys: video == nil ? 0 : inputs.memory.rowCount,
                               loadAverage: load, stages: stages, reference: reference, referenceSkipped: skipped)
    }

    /// `model_type` of the directory's config.json is `sam2_video` (the official checkpoints' type).
    static func isVideoCheckpoint(_ directory: String) throws -> Bool {
        try SAM2Config.load(directory: directory).modelType == "sam2_video"
    }

    static func writeInputs(_ i: SAM2BenchmarkInputs, to url: URL) throws {
        var w = SafeTensorsWriter()
        w.metadata = ["format": "pt"]
        let S = i.frames.first?.shape.last ?? 0
        w.add(.init(name: "pixel_values", tensor: Tensor(shape: [i.frames.count, 3, S, S], i.frames.flatMap(\.storage))))
        w.add(.init(name: "box", tensor: Tensor(shape: [4], [i.box.x0, i.box.y0, i.box.x1, i.box.y1])))
        w.add(.init(name: "memory", tensor: i.memory))
        w.add(.init(name: "memory_pe", tensor: i.memoryPE))
        w.add(.init(name: "pointer_tokens", tensor: Tensor(shape: [1], [Float(i.pointerTokens)])))
        w.add(.init(name: "current", tensor: i.current))
        w.add(.init(name: "current_pe", tensor: i.currentPE))
        w.add(.init(name: "high_res_mask", tensor: i.highResMask))
        try Data(w.serialized()).write(to: url)
    }
}
