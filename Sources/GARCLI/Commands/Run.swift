import ArgumentParser
import Foundation
import Pipeline

/// `gar run pipelines/NAME.yaml --video V ...`: one clip through a pipeline spec.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline spec (pipelines/*.yaml) on one video.",
        discussion: """
        The spec sets the frames, tracker, model directory, prompt template, questions and \
        generation (pipelines/README.md). Flags override it: --model, --frames/--fps, \
        --max-new-tokens ..., --question (replaces the spec's questions; repeatable), and any key \
        with --set key.path=value. Regions: --region as in `gar ask` (repeatable; region k is \
        <Promptk>), or --annotation. Prints the JSON answer (one object) on stdout.
        """)

    @Argument(help: ArgumentHelp("Pipeline spec (YAML).", valueName: "pipeline.yaml"))
    var spec: String

    @Option(help: ArgumentHelp("Video file (or use --frames-dir).", valueName: "path"))
    var video: String?

    @Option(help: ArgumentHelp("Model directory (default: the spec's `model`).", valueName: "dir"))
    var model: String?

    @Option(name: .customLong("region"), help: ArgumentHelp("A region to track, repeated: the k-th is <Promptk> (see gar ask --help).", valueName: "prompt"))
    var regions: [String] = []

    @Option(name: .customLong("question"), help: "A question (repeatable; replaces the spec's questions).")
    var questions: [String] = []

    @Option(name: .customLong("choice"), help: ArgumentHelp("Multiple-choice option for the question(s), repeated.", valueName: "text"))
    var choices: [String] = []

    @OptionGroup var run: VideoRunOptions

    @Flag(help: "Pretty-print the JSON.")
    var pretty = false

    func validate() throws {
        if run.pipeline != nil { throw ValidationError("the spec is the first argument of gar run; --pipeline is for caption/ask") }
        if run.annotation == nil && regions.isEmpty { throw ValidationError("give at least one --region (or --annotation)") }
        if run.annotation != nil && !regions.isEmpty { throw ValidationError("give either --region prompts or --annotation, not both") }
        if !choices.isEmpty && questions.isEmpty { throw ValidationError("--choice needs a --question") }
    }

    func run() async throws {
        var s = try PipelineSpec.load(path: spec, overrides: run.settings)
        run.apply(to: &s)
        var request = try run.request(input: video, spec: s)
        request.modelDirectory = model
        request.questions = questions.map { VideoQuestion($0, choices: choices) }
        try parsingOptions { try request.setRegions(regions) }
        try run.checkOutputs(request, extraInputs: [spec])
        let answer = try VideoRegionJob.run(request)
        if let output = run.output { try AtomicOutput.write(try answer.json(pretty: true) + "\n", to: URL(fileURLWithPath: output)) }
        print(try answer.json(pretty: pretty))
    }
}
