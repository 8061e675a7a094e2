import ArgumentParser
import Foundation
import Pipeline

/// `gar describe`: the reference single-region prompt (`<Prompt1>`) on an image.
struct Describe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Describe a masked region of an image.",
        discussion: """
        The text streams to stdout as it is generated; --json prints one JSON object instead \
        (text, token_ids, prompt_tokens, timings, grid, tiles). Masks: any nonzero pixel is inside; the \
        mask must have the image's size.
        """)

    @OptionGroup var modelOption: ModelDirectoryOption

    @Option(help: ArgumentHelp("Image (PNG or JPEG).", valueName: "path"))
    var image: String

    @Option(help: ArgumentHelp("Region mask (PNG, same size as the image).", valueName: "path"))
    var mask: String

    @OptionGroup var generation: GenerationArguments

    @Flag(help: "Print one JSON object instead of streaming text.")
    var json = false

    func run() async throws {
        var request = ImageRegionRequest(modelDirectory: modelOption.model, imagePath: image, maskPaths: [mask], question: nil,
                                         options: generation.requestOptions, threads: generation.flags.threads)
        request.precision = try modelOption.precision.resolve()
        request.emitLogits = generation.logits.emitLogits
        let onText: ((String) -> Void)? = json ? nil : { streamToStdout($0) }
        let answer = try ImageRegionJob.run(request, onText: onText)
        if json { print(try answer.json()) } else { print("") }
    }
}
