import ArgumentParser
import Foundation
import Pipeline
import Tensors

/// `gar bench faithfulness`: the fast precisions against the exact f32 path on one describe
/// request (Pipeline.FaithfulnessBenchmark, issue 12 point 6).
struct BenchFaithfulness: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faithfulness",
        abstract: "Compare the fast precisions with the exact f32 path on one describe request.",
        discussion: """
        Runs `gar describe` on --image and --mask (greedy, --max-new-tokens tokens) in f32 first, the \
        reference, then in each of --precisions; each model is loaded, used and released before the \
        next (a full-size model is never held twice). Per precision: the max relative first-step logit \
        error (max |Δ logit| / max |f32 logit|), whether the first token is kept, the identical greedy \
        prefix k/N (N = the tokens f32 generated), the ids, text and seconds, and a verdict: faithful \
        when the first token is kept and at least ⌈5/8 · N⌉ of the N tokens are identical to f32's \
        (5 of 8, issue 12's rule at full size). Progress goes to stderr.
        """)

    @Option(name: .long, help: ArgumentHelp("GAR checkpoint directory.", valueName: "dir"))
    var model: String

    @Option(help: ArgumentHelp("Image (PNG or JPEG).", valueName: "path"))
    var image: String

    @Option(help: ArgumentHelp("Region mask (PNG, same size as the image).", valueName: "path"))
    var mask: String

    @Option(help: ArgumentHelp("Precisions compared with f32, comma-separated (default: bf16,int8).", valueName: "list"),
            transform: { (text: String) throws -> [Precision] in
                do { return try FaithfulnessBenchmark.parsePrecisions(text) } catch let PipelineError.invalidInput(_, reason) { throw ValidationError(reason) }
            })
    var precisions: [Precision] = [.bf16, .int8]

    @Option(name: .customLong("max-new-tokens"), parsing: .unconditional, help: "Greedy tokens generated per precision (N).")
    var maxNewTokens = 8

    @Option(parsing: .unconditional, help: "Threads for the model (default: all CPUs).")
    var threads: Int?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        if maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be at least 1, got \(maxNewTokens)") }
        try checkThreads(threads)
    }

    func run() async throws {
        var o = FaithfulnessOptions(modelDirectory: model, imagePath: image, maskPath: mask)
        o.precisions = precisions
        o.maxNewTokens = maxNewTokens
        o.threads = threads
        let result = try FaithfulnessBenchmark.run(o)
        print(json ? try result.json() : result.table())
    }
}
