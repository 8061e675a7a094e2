import ArgumentParser
import Foundation
import Pipeline
import Video

/// `gar frames VIDEO ... --out DIR`: sampled frames as PNGs + frames.json (Pipeline.FramesJob).
struct Frames: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames",
        abstract: "Sample frames from a video (or a folder of frames) and write them as PNGs named by frame index, plus frames.json.",
        discussion: """
            Give at most one of --count, --every, --fps, --indices, --times (none: every frame). \
            Frame k is the k-th frame a sequential decode outputs; times are seconds since frame 0.

            --count uses the PerceptionLM rule by default (indices = arange(0, n, n/count), truncated); \
            --rule videorefer picks segment middles as VideoRefer does.

            The output folder is created when missing; gar writes its PNGs and frames.json into it and \
            touches nothing else there (files of the same names are replaced, each only when all are \
            complete). On any error nothing of this run is left behind.
            """)

    @Argument(help: "Video file or folder of .png/.jpg frames.")
    var video: String

    @Option(help: "Uniformly sample N frames over the clip or the --start/--end window.")
    var count: Int?

    @Option(help: "Uniform rule for --count: plm (default) or videorefer.")
    var rule: String = "plm"

    @Option(help: "Every K-th frame.")
    var every: Int?

    @Option(help: "R frames per second (the frame on screen at 0, 1/R, 2/R, ... s).")
    var fps: Double?

    @Option(help: "Explicit frame indices, e.g. 0,5,9.")
    var indices: String?

    @Option(help: "Explicit times in seconds, e.g. 0.5,1.25 (the frame on screen at each).")
    var times: String?

    @Option(help: "Window start in seconds (with --count/--every/--fps or none).")
    var start: Double?

    @Option(help: "Window end in seconds.")
    var end: Double?

    @Option(help: "Output size WxH (aspect ratio not kept).")
    var size: String?

    @Option(name: .customLong("max-side"), help: "Scale so the longer side is at most N (never enlarges).")
    var maxSide: Int?

    @Option(help: "Output folder (created when missing; only gar's own files in it are written).")
    var out: String

    @Option(parsing: .unconditional, help: "Decoder threads (0 = one per core).")
    var threads = 0

    @Option(name: .customLong("folder-fps"), parsing: .unconditional, help: "Frame rate of a frame folder (for time-based options).")
    var folderFPS: Double?

    @Flag(name: .customLong("allow-partial"), help: "Keep the decodable frames when damaged data makes some wanted frames undecodable.")
    var allowPartial = false

    @Flag(help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        try checkDecoderThreads(threads)
        if let folderFPS, !(folderFPS > 0 && folderFPS.isFinite) { throw ValidationError("--folder-fps must be a finite rate > 0, got \(folderFPS)") }
    }

    func run() async throws {
        let request = try parsingOptions {
            FramesJob.Request(
                input: video, policy: try FrameRequest.policy(count: count, rule: rule, every: every, fps: fps, indices: indices, times: times),
                window: try FrameRequest.window(start: start, end: end), size: try FrameRequest.size(size, maxSide: maxSide),
                outDir: out, threads: threads, allowPartial: allowPartial, folderFPS: folderFPS, quiet: quiet)
        }
        try parsingOptions { try AtomicOutput.refuseInputs([video], asFolder: out, option: "--out", writes: FramesJob.writes) }
        let manifest = try FramesJob.run(request)
        print(try JSONOutput.string(FramesJob.Summary(out: out, manifest: manifest)))
    }
}
