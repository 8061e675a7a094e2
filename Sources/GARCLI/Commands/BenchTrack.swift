import ArgumentParser
import Foundation
import Pipeline
import Tensors

struct BenchTrack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "track",
        abstract: "Benchmark the weight-free tracker (ms per frame) against its own optical flow, on synthetic frames; or, with --sam2, SAM 2.1's per-frame stages against the transformers reference",
        discussion: """
        With --sam2 DIR: seconds per frame of SAM 2.1's image encoder (+ neck), prompt → mask decoder \
        and, for a video checkpoint (model_type sam2_video, as the official ones), memory attention over \
        a full memory bank and the memory encoder, on --frames synthetic frames; with --python PY the \
        transformers reference (bench/sam2_reference_bench.py, fp32 and bf16) is timed on the same inputs \
        first. A random-weight hiera-tiny video checkpoint: `PY bench/sam2_reference_bench.py \
        --write-checkpoint DIR`.
        """)

    @Option(help: "Frame width (weight-free tracker; default 854).") var width: Int?
    @Option(help: "Frame height (weight-free tracker; default 480).") var height: Int?
    @Option(help: "Frames (weight-free tracker: per repetition, default 60, the synthetic motion is scaled to the clip length; --sam2: default 3).") var frames: Int?
    @Option(help: "Repetitions (weight-free tracker; default 2).") var reps: Int?
    @Option(help: "Objects tracked at once (weight-free tracker: 1 or 2; default 1).") var objects: Int?
    @Option(help: "A SAM 2.1 checkpoint directory: benchmark SAM 2.1 instead of the weight-free tracker.") var sam2: String?
    @Option(help: "With --sam2: Python with transformers 4.56.2 to time the reference on the same inputs (e.g. /work/venv/ref/bin/python).") var python: String?
    @Option(help: ArgumentHelp("With --sam2: f32 (exact) or bf16 (bf16 products, f32 accumulation). Default: bf16 on CPUs with native bf16, else f32.",
                               valueName: "f32|bf16"),
            transform: { (text: String) throws -> Precision in
                do { return try Precision.parse(text) } catch let e as PrecisionNameError { throw ValidationError(e.description) }
            })
    var precision: Precision?
    @Flag(help: "Print JSON instead of a table.") var json = false

    func validate() throws {
        if sam2 != nil {
            for (name, given) in [("--width", width != nil), ("--height", height != nil), ("--reps", reps != nil), ("--objects", objects != nil)] where given {
                throw ValidationError("\(name) applies to the weight-free tracker, not to --sam2")
            }
            if let frames, !(1...100).contains(frames) { throw ValidationError("--frames must be between 1 and 100 with --sam2") }
            return
        }
        if python != nil { throw ValidationError("--python needs --sam2") }
        if precision != nil { throw ValidationError("--precision needs --sam2") }
        guard (width ?? 854) >= 64 && (height ?? 480) >= 64 else { throw ValidationError("--width and --height must be at least 64") }
        guard (frames ?? 60) >= 3 else { throw ValidationError("--frames must be at least 3") }
        guard (reps ?? 2) >= 1 else { throw ValidationError("--reps must be at least 1") }
        guard (1...2).contains(objects ?? 1) else { throw ValidationError("--objects must be 1 or 2") }
    }

    func run() async throws {
        if let sam2 {
            var o = SAM2BenchOptions(modelDirectory: sam2, precision: precision)
            o.frames = frames ?? 3
            o.python = python
            let report = try SAM2Bench.run(o)
            print(json ? try JSONOutput.string(report, pretty: true) : report.table, terminator: json ? "\n" : "")
            return
        }
        var o = TrackBenchOptions()
        o.width = width ?? 854; o.height = height ?? 480; o.frames = frames ?? 60; o.repetitions = reps ?? 2; o.objects = objects ?? 1
        let report = TrackBench.run(o, progress: Pipeline.Progress("bench track", total: 4 * o.repetitions))
        if json {
            print(try JSONOutput.string(report, pretty: true))
        } else {
            print(report.table, terminator: "")
        }
    }
}
