import ArgumentParser
import Foundation
import Pipeline

/// `gar ask`: a question about regions `<Prompt0>`, `<Prompt1>`, … given by masks in that order
/// (the reference multi-region prompt). Image mode here; the video mode (a positional VIDEO or
/// --frames-dir) is added by the pipeline work next to `--image`.
struct Ask: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Ask a question about regions of an image.",
        discussion: """
        Name the regions <Prompt0>, <Prompt1>, … in the question; the k-th --mask is <Promptk>. The \
        text streams to stdout; --json prints one JSON object instead.
        """)

    @OptionGroup var modelOption: ModelDirectoryOption

    @Option(help: ArgumentHelp("Image (PNG or JPEG).", valueName: "path"))
    var image: String?

    @Option(name: .customLong("mask"), help: ArgumentHelp("Region mask, repeated: the k-th is <Promptk>.", valueName: "path"))
    var masks: [String] = []

    @Option(help: "The question, naming regions as <Prompt0>, <Prompt1>, …")
    var question: String

    @OptionGroup var generation: GenerationArguments

    @Flag(help: "Print one JSON object instead of streaming text.")
    var json = false

    func validate() throws {
        guard image != nil else { throw ValidationError("--image is required") }
        guard !masks.isEmpty else { throw ValidationError("at least one --mask is required") }
    }

    func run() async throws {
        guard let image else { throw ValidationError("--image is required") }
        try await runImage(image)
    }

    func runImage(_ image: String) async throws {
        let request = ImageRegionRequest(modelDirectory: modelOption.model, imagePath: image, maskPaths: masks, question: question,
                                         options: generation.requestOptions, threads: generation.threads)
        let onText: ((String) -> Void)? = json ? nil : { streamToStdout($0) }
        let answer = try ImageRegionJob.run(request, onText: onText)
        if json { print(try answer.json()) } else { print("") }
    }
}
