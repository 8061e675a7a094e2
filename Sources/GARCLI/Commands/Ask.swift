import ArgumentParser
import Foundation
import Models
import Pipeline

/// `gar ask`: a question about regions `<Prompt0>`, `<Prompt1>`, … On an image (--image, with
/// --mask per region: the reference multi-region prompt) or on a video (VIDEO or --frames-dir,
/// with --region per region, tracked; or --annotation with given masks: video protocol v1).
struct Ask: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Ask a question about regions of an image or a video.",
        discussion: """
        Name the regions <Prompt0>, <Prompt1>, … in the question.

        Image: --image PATH and one --mask per region (the k-th is <Promptk>).

        Video: VIDEO (or --frames-dir DIR) and one --region per region, tracked through the clip: \
        --region "mask=PNG", "box=x1,y1,x2,y2", "point=x,y[,neg]" (repeatable inside one region), \
        "scribble=FILE", with "frame=K" for the prompted frame (default 0), e.g. \
        --region "box=520,130,609,219 frame=0". A --mask given with a video is a mask region on \
        frame 0. Or --annotation ANN.json (VideoRefer style) for given masks. Multiple choice: \
        repeat --choice "(A) ..." and the model is asked to answer with the letter; the JSON then \
        has "choice" (read by VideoRefer's official rule).

        Several --question: each is answered in turn (the image or frames are encoded once, and \
        each further question runs only its own prompt tokens, the shared prefix's KV cache being \
        reused).

        The text streams to stdout, one answer per line; --json prints one JSON object instead (an \
        image: one object per question, one per line).
        """)

    @Argument(help: ArgumentHelp("Video file (video mode).", valueName: "video"))
    var video: String?

    @OptionGroup var modelOption: ModelDirectoryOption

    @Option(help: ArgumentHelp("Image (PNG or JPEG): image mode.", valueName: "path"))
    var image: String?

    @Option(name: .customLong("mask"), help: ArgumentHelp("Region mask, repeated: the k-th is <Promptk>.", valueName: "path"))
    var masks: [String] = []

    @Option(name: .customLong("region"), help: ArgumentHelp("Video: a region to track, repeated: the k-th is <Promptk>.", valueName: "prompt"))
    var regions: [String] = []

    @Option(name: .customLong("question"), help: "The question, naming regions as <Prompt0>, <Prompt1>, … (repeatable).")
    var questions: [String]

    @Option(name: .customLong("choice"), help: ArgumentHelp("Video: a multiple-choice option, repeated (e.g. \"(A) A ball\").", valueName: "text"))
    var choices: [String] = []

    @OptionGroup var replay: ReplayFlags

    @OptionGroup var run: VideoRunOptions

    @Flag(help: "Print one JSON object instead of streaming text.")
    var json = false

    var isVideo: Bool { video != nil || run.framesDir != nil }

    func validate() throws {
        if questions.isEmpty { throw ValidationError("give at least one --question") }
        if image != nil && isVideo { throw ValidationError("give --image or a video (VIDEO / --frames-dir), not both") }
        if !isVideo {
            guard image != nil else { throw ValidationError("give --image PATH, or a VIDEO / --frames-dir DIR") }
            guard !masks.isEmpty else { throw ValidationError("at least one --mask is required") }
            guard regions.isEmpty, choices.isEmpty, run.annotation == nil, run.overlay == nil, !run.trackerOptions.given else {
                throw ValidationError("--region, --choice, --annotation, --overlay, --tracker and --sam2 apply to videos")
            }
        } else {
            if replay.perRegionBoxes { throw ValidationError("--per-region-boxes applies to --image only") }
            if run.annotation != nil && !(regions.isEmpty && masks.isEmpty) {
                throw ValidationError("give either --region/--mask prompts or --annotation, not both")
            }
            if !regions.isEmpty && !masks.isEmpty {
                throw ValidationError("with a video give the regions either as --region or as --mask, not both (the order would be ambiguous)")
            }
            if run.annotation == nil && regions.isEmpty && masks.isEmpty {
                throw ValidationError("give at least one --region (or --annotation)")
            }
        }
        // The regions given on the command line (an annotation's are known once it is read).
        if run.annotation == nil {
            do { for question in questions { try GARSession.checkRegionNames(question, regions: masks.count + regions.count) } } catch {
                throw ValidationError("--question: \(error)")
            }
        }
    }

    func run() async throws {
        if let image, !isVideo { try runImage(image) } else { try runVideo() }
    }

    /// Image mode: the reference's defaults unless given.
    var imageOptions: RequestOptions {
        replay.imageOptions(run.generation)
    }

    func runImage(_ image: String) throws {
        var request = ImageRegionRequest(modelDirectory: modelOption.model, imagePath: image, maskPaths: masks, question: nil,
                                         options: imageOptions, threads: run.generation.threads)
        request.questions = questions
        request.precision = try modelOption.precision.resolve()
        request.emitLogits = run.logits.emitLogits
        // Streamed text: one answer per line.
        var streaming = 0
        let onText: ((Int, String) -> Void)? = json ? nil : { i, text in
            while streaming < i { print(""); streaming += 1 }
            streamToStdout(text)
        }
        if let output = run.output {
            try parsingOptions { try AtomicOutput.refuseInputs([image, modelOption.model] + masks, asFile: output, option: "--output") }
            try AtomicOutput.checkFileDestination(URL(fileURLWithPath: output))
        }
        let answers = try ImageRegionJob.runAll(request, onText: onText)
        let lines = try answers.map { try $0.json() + "\n" }.joined()
        if let output = run.output { try AtomicOutput.write(lines, to: URL(fileURLWithPath: output)) }
        if json { print(lines, terminator: "") } else { while streaming < answers.count { print(""); streaming += 1 } }
    }

    func runVideo() throws {
        var spec = try run.spec(builtIn: .temporalQA)
        if replay.singleBOS { spec.generation.doubleBOS = false }
        if replay.correctedBoxScaling { spec.correctedBoxScaling = true }
        var request = try run.request(input: video, spec: spec)
        request.modelDirectory = modelOption.model
        request.precision = try modelOption.precision.resolve(spec: spec.precision)
        request.questions = questions.map { VideoQuestion($0, choices: choices) }
        let texts = masks.map { "mask=\($0)" } + regions
        try parsingOptions { try request.setRegions(texts) }
        try run.checkOutputs(request)
        let onText: ((String) -> Void)? = json ? nil : { streamToStdout($0) }
        let answer = try VideoRegionJob.run(request, onText: onText)
        try run.finish(answer, json: json)
    }
}
