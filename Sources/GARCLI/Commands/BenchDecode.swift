import ArgumentParser
import Foundation
import Pipeline
import Video

/// `gar bench decode VIDEO`: decode throughput and sampling cost vs the ffmpeg CLI (Pipeline.BenchDecodeJob).
struct BenchDecode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Benchmark: full-decode frames/s and the time to sample N frames, side by side with the ffmpeg CLI.",
        discussion: "A 10-minute 720p H.264 clip with 2-s GOPs: bash samples/make_bench_clip.sh (writes /tmp/gar-bench-720p.mp4).")

    @Argument(help: "Video file.")
    var video: String

    @Option(parsing: .unconditional, help: "Decoder threads for gar and ffmpeg (0 = one per core).")
    var threads = 0

    @Option(help: "Repetitions of every measurement.")
    var reps = 2

    @Option(help: "Frames to sample (uniform).")
    var samples = 16

    @Flag(help: "Print JSON instead of a Markdown table.")
    var json = false

    @Option(name: .shortAndLong, help: "Also write the report to this file.")
    var output: String?

    func validate() throws {
        try checkDecoderThreads(threads)
    }

    func run() async throws {
        if let output { try parsingOptions { try AtomicOutput.refuseInputs([video], asFile: output, option: "--output") } }
        let report = try BenchDecodeJob.run(.init(video: video, threads: threads, reps: reps, samples: samples))
        let text: String
        if json {
            text = try JSONOutput.string(report, pretty: true)
        } else {
            text = BenchDecodeJob.markdown(report)
        }
        print(text)
        if let output { try AtomicOutput.write(text + "\n", to: URL(fileURLWithPath: output)) }
    }
}
