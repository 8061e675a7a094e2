import ArgumentParser
import Foundation
import Pipeline

/// `gar bench e2e`: one-region `gar caption` over N frames timed per stage, with the PyTorch
/// reference on the same model work (Pipeline.E2EBenchmark).
struct BenchE2E: AsyncParsableCommand {
    static let defaultClip = "samples/clips/ball.mp4"
    static let defaultMask = "samples/masks/ball_f0.png"

    static let configuration = CommandConfiguration(
        commandName: "e2e",
        abstract: "Benchmark the user's job end to end: track one region through a clip and caption it over N frames.",
        discussion: """
        Runs `gar caption`'s pipeline (decode, track, vision, prefill, generate) on --clip with the \
        region given by --mask or --box on frame --frame (default: \(defaultClip) with \
        \(defaultMask)), --frames sampled frames (default 16) and at most --max-new-tokens tokens, \
        and prints each stage's seconds, the end to end, the peak RSS and the token counts. The \
        model sees every frame as one tile at its input size, so the clip's size only changes the \
        decode and track times. --second-question asks a second question on the same clip and \
        region in the same run (it reuses the frames' features and the KV cache of the shared \
        prompt prefix) and reports its time as a percentage of the first's. --python PY runs the \
        PyTorch reference (bench/pytorch/bench_gar.py) on the same model work: the same tiles, a \
        prefill of the same prompt length and the same number of greedy steps, in gar's precision.
        """)

    @Option(name: .long, help: "GAR checkpoint directory.")
    var model: String

    @Option(help: ArgumentHelp("Video file (default: \(defaultClip)).", valueName: "video"))
    var clip: String?

    @Option(help: ArgumentHelp("Mask of the region on the prompted frame (PNG; default with the default clip: \(defaultMask)).", valueName: "png"))
    var mask: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Box of the region, inclusive pixel corners.", valueName: "x1,y1,x2,y2"))
    var box: String?

    @Option(parsing: .unconditional, help: "Frame the region is drawn on.")
    var frame = 0

    @Option(help: "Frames the model sees.")
    var frames = 16

    @Option(name: .customLong("max-new-tokens"), help: "Most tokens to generate.")
    var maxNewTokens = 32

    @Option(help: "The question (default: the caption pipeline's).")
    var question: String?

    @Option(name: .customLong("second-question"), help: ArgumentHelp("A second question on the same clip and region, timed after the first.", valueName: "text"))
    var secondQuestion: String?

    @Option(help: "Threads for gar and for PyTorch (default: all CPUs).")
    var threads: Int?

    @Option(name: [.long, .customLong("pytorch")], help: "Python interpreter with the reference stack (e.g. /work/venv/ref/bin/python); omit to skip PyTorch.")
    var python: String?

    @Option(name: .customLong("pytorch-script"), help: "Path of bench_gar.py (default: bench/pytorch/bench_gar.py found near the working directory or the binary).")
    var pytorchScript: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    @OptionGroup var precision: PrecisionOption

    func validate() throws {
        if frames < 1 { throw ValidationError("--frames must be at least 1, got \(frames)") }
        if maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be at least 1, got \(maxNewTokens)") }
        if frame < 0 { throw ValidationError("--frame must be >= 0, got \(frame)") }
        try checkThreads(threads)
        if mask != nil && box != nil { throw ValidationError("give the region as --mask PNG or --box x1,y1,x2,y2, not both") }
        if clip != nil && mask == nil && box == nil { throw ValidationError("--clip needs the region: --mask PNG or --box x1,y1,x2,y2") }
        for (name, text) in [("--question", question), ("--second-question", secondQuestion)] {
            if let text, text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("\(name): the question is empty") }
        }
    }

    func run() async throws {
        let clipPath = try clip ?? Self.sample(Self.defaultClip)
        let maskPath = try mask ?? (box == nil ? Self.sample(Self.defaultMask) : nil)
        var b = PromptListBuilder()
        let region = try parsingOptions { () throws -> ObjectSpec in
            try b.object("<Prompt0>")
            try b.frame(frame)
            if let maskPath { try b.mask(maskPath) }
            if let box { try b.box(box) }
            return try b.finish()[0]
        }
        let regionText = (maskPath.map { "mask=\($0)" } ?? "box=\(box!)") + (frame == 0 ? "" : ",frame=\(frame)")
        var o = E2EBenchmarkOptions(modelDirectory: model, clip: clipPath, region: region, regionText: regionText,
                                    threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        o.frames = frames
        o.maxNewTokens = maxNewTokens
        o.question = question
        o.secondQuestion = secondQuestion
        o.python = python
        o.pytorchScript = pytorchScript
        o.precision = try precision.resolve()
        let result = try E2EBenchmark.run(o)
        print(json ? try result.json() : result.table())
    }

    /// A committed sample (the defaults) found near the working directory or the binary.
    static func sample(_ rel: String) throws -> String {
        guard let path = ModelBenchmark.findScript(rel) else {
            throw PipelineError.invalidInput(what: rel, reason: "the default sample was not found near the working directory or the binary; pass --clip and --mask")
        }
        return path
    }
}
