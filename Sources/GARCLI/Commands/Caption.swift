import ArgumentParser
import Foundation
import Pipeline

/// `gar caption VIDEO --model DIR --mask PNG`: track a region through a clip and describe it
/// (Pipeline.VideoRegionJob with the built-in caption-tracked-object spec).
struct Caption: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caption",
        abstract: "Track a region through a video and describe it across the sampled frames.",
        discussion: """
        The region is given on one frame (--frame K, default 0) as a mask, a box, clicks and/or a \
        scribble; it is tracked through the clip, then GAR describes it over the sampled frames \
        (default 8, from pipelines/caption-tracked-object.yaml). With --annotation the masks are \
        read from the file instead. The text streams to stdout; --json prints one JSON object \
        (text, token_ids, frames, per-region per-frame RLE masks with confidence, timings).
        """)

    @Argument(help: ArgumentHelp("Video file (or use --frames-dir).", valueName: "video"))
    var video: String?

    @OptionGroup var modelOption: ModelDirectoryOption

    @Option(help: ArgumentHelp("Mask of the region on the prompted frame (PNG, the frame's size; nonzero = inside).", valueName: "png"))
    var mask: String?

    // .unconditional: a value may start with '-' ("--box -10,-10,5,5" is a box outside the frame, and
    // is reported as one, not as ArgumentParser's "Missing value").
    @Option(parsing: .unconditional, help: ArgumentHelp("Box of the region, inclusive pixel corners.", valueName: "x1,y1,x2,y2"))
    var box: String?

    @Option(name: .customLong("point"), parsing: .unconditionalSingleValue, help: ArgumentHelp("A click on the region (repeatable; ',neg' for background).", valueName: "x,y[,neg]"))
    var points: [String] = []

    @Option(help: ArgumentHelp("Scribble file (one stroke per line: 'pos|neg WIDTH x,y x,y ...').", valueName: "file"))
    var scribble: String?

    @Option(parsing: .unconditional, help: "Frame the prompt is drawn on (frame index in the video).")
    var frame: Int = 0

    @OptionGroup var run: VideoRunOptions

    @Flag(help: "Print one JSON object instead of streaming text.")
    var json = false

    func validate() throws {
        let hasPrompt = mask != nil || box != nil || !points.isEmpty || scribble != nil
        if run.annotation == nil && !hasPrompt {
            throw ValidationError("give the region: --mask PNG, --box x1,y1,x2,y2, --point x,y or --scribble FILE (or --annotation)")
        }
        if run.annotation != nil && hasPrompt {
            throw ValidationError("give either a region prompt or --annotation, not both")
        }
        if frame < 0 { throw ValidationError("--frame must be >= 0, got \(frame)") }
    }

    func run() async throws {
        let spec = try run.spec(builtIn: .captionTrackedObject)
        var request = try run.request(input: video, spec: spec)
        request.modelDirectory = modelOption.model
        if run.annotation == nil {
            request.regions = [try parsingOptions { try region() }]
        }
        try run.checkOutputs(request)
        let onText: ((String) -> Void)? = json ? nil : { streamToStdout($0) }
        let answer = try VideoRegionJob.run(request, onText: onText)
        try run.finish(answer, json: json)
    }

    /// The region `<Prompt0>` the prompt options give (the rules of gar track's flags).
    func region() throws -> ObjectSpec {
        var b = PromptListBuilder()
        try b.object("<Prompt0>")
        try b.frame(frame)
        if let mask { try b.mask(mask) }
        if let box { try b.box(box) }
        for p in points { try b.point(p) }
        if let scribble { try b.scribble(scribble) }
        return try b.finish()[0]
    }
}
