import ArgumentParser
import Foundation
import Pipeline

/// `gar bench videorefer`: VideoRefer-Bench-Q accuracy (Pipeline.VideoReferBench).
struct BenchVideoRefer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "videorefer",
        abstract: "VideoRefer-Bench-Q: predictions JSONL and per-type accuracy with the official letter rule.",
        discussion: """
        Runs every question (or the first --limit) with the masks of its annotation (no tracking), \
        appending one line per question to --out (resumable with --resume), then prints the \
        accuracy per question type and the micro average. --score PRED.jsonl only scores an \
        existing predictions file (ours, or the official format with "Answer", "pred", "type"). \
        Settings come from the built-in pipelines/videorefer-bench-q.yaml (16 frames among the \
        annotated ones, VideoRefer's sampling rule), or --pipeline / --set.
        """)

    @Option(help: ArgumentHelp("VideoRefer-Bench-Q.json.", valueName: "json"))
    var questions: String?

    @Option(help: ArgumentHelp("Root the questions' \"video\" paths are relative to.", valueName: "dir"))
    var videos: String?

    @Option(help: ArgumentHelp("Model directory.", valueName: "dir"))
    var model: String?

    @Option(help: ArgumentHelp("Predictions file (JSONL).", valueName: "jsonl"))
    var out = "videorefer-bench-q.predictions.jsonl"

    @Option(help: "Run only the first N questions.")
    var limit: Int?

    @Flag(help: "Continue an existing predictions file: skip answered questions, retry failed ones.")
    var resume = false

    @Option(help: ArgumentHelp("Only score this predictions file.", valueName: "jsonl"))
    var score: String?

    @Option(help: "Mask mode: multi (every annotated frame) or single (only frame_idx).")
    var mode: String?

    @Option(help: ArgumentHelp("Pipeline spec instead of the built-in one.", valueName: "yaml"))
    var pipeline: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a spec key (repeatable).", valueName: "key=value"))
    var settings: [String] = []

    @Option(help: "Threads for the model (default: all CPUs).")
    var threads: Int?

    @Flag(help: "Print the scores as JSON instead of a table.")
    var json = false

    @Flag(help: "No progress lines on stderr.")
    var quiet = false

    func validate() throws {
        if score == nil {
            guard questions != nil, videos != nil, model != nil else {
                throw ValidationError("give --questions, --videos and --model (or --score PRED.jsonl)")
            }
        } else if questions != nil || videos != nil || model != nil || limit != nil || resume || mode != nil || pipeline != nil || !settings.isEmpty {
            throw ValidationError("--score only scores a predictions file; give it alone (no --questions, --videos, --model or run options)")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        try checkThreads(threads)
        if let mode, mode != "multi" && mode != "single" { throw ValidationError("--mode must be multi or single") }
    }

    func run() async throws {
        let scores: VideoReferScores
        if let score {
            scores = try VideoReferBench.score(path: score)
        } else {
            var spec: PipelineSpec
            if let pipeline {
                spec = try PipelineSpec.load(path: pipeline, overrides: settings)
            } else {
                spec = try PipelineSpec.parse(PipelineSpec.BuiltIn.videoReferBenchQ.text, source: "built-in videorefer-bench-q", overrides: settings)
            }
            if let mode { spec.videorefer.maskMode = mode }
            let inputs = [questions!, pipeline, model].compactMap { $0 }
            try parsingOptions { try AtomicOutput.refuseInputs(inputs, asFile: out, option: "--out") }
            var o = VideoReferOptions(questions: questions!, videos: videos!, out: out, spec: spec)
            o.modelDirectory = model
            o.limit = limit
            o.resume = resume
            o.threads = threads
            o.quiet = quiet
            scores = try VideoReferBench.run(o)
        }
        if json {
            print(try JSONOutput.string(scores))
        } else {
            print(scores.table, terminator: "")
        }
    }
}
