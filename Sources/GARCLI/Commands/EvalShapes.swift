import ArgumentParser
import Foundation
import Pipeline

/// `gar eval`: evaluations of a model on generated data (`gar eval-track` evaluates the tracker).
struct Eval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate a model on generated data: shapes",
        subcommands: [EvalShapes.self])
}

/// `gar eval shapes SET --model DIR`: accuracy on a held-out shapes set through the full chain
/// (Pipeline.ShapesEval).
struct EvalShapes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shapes",
        abstract: "Accuracy on a held-out set of the synthetic shapes world, through decode → box prompt → tracker → model.",
        discussion: """
        SET is a folder written by tools/shapes/world.py (set.json and its mp4 clips). Schema v1 \
        (the default world): for every object of every clip, its box on frame 0 is tracked through \
        the clip and the model is asked its caption and multiple-choice questions (colour, shape, \
        direction, speed) over the frames the set was made for (built-in caption spec). Schema v2 \
        (world.py --events: occlusion, leaving the view, overtaking, size change, turning): each \
        question names its regions (one object, or two as <Prompt0> and <Prompt1>), each boxed on \
        its prompt frame; accuracy per question kind. Controls: 'swapped' prompts the other \
        object's box (two regions: the two in reverse order) and scores against the asked answers; \
        'full_frame' replaces every mask by the whole frame. Prints a table (or --json with every \
        answer); --output also writes the JSON.
        """)

    @Argument(help: ArgumentHelp("Held-out set folder (set.json + clips).", valueName: "set"))
    var set: String

    @OptionGroup var modelOption: ModelDirectoryOption

    @Option(help: ArgumentHelp("Conditions, comma-separated: region, swapped, full_frame (default: all).", valueName: "list"))
    var conditions: String?

    @Option(help: "Only the first N clips.")
    var limit: Int?

    @Option(help: "Threads for the model (default: all CPUs).")
    var threads: Int?

    @Option(name: .customLong("output"), help: ArgumentHelp("Also write the JSON report to this file (atomically).", valueName: "file"))
    var output: String?

    @Flag(help: "Print the report as JSON instead of a table.")
    var json = false

    @Flag(help: "No progress lines on stderr.")
    var quiet = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
        try checkThreads(threads)
        _ = try parsedConditions()
    }

    func parsedConditions() throws -> [ShapesCondition] {
        guard let conditions else { return ShapesCondition.allCases }
        var out: [ShapesCondition] = []
        for name in conditions.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard let c = ShapesCondition(rawValue: name) else {
                throw ValidationError("--conditions: unknown condition '\(name)' (expected region, swapped or full_frame)")
            }
            if out.contains(c) { throw ValidationError("--conditions: '\(name)' is given twice") }
            out.append(c)
        }
        return out
    }

    func run() async throws {
        if let output {
            try parsingOptions { try AtomicOutput.refuseInputs([set, modelOption.model], asFile: output, option: "--output") }
            try AtomicOutput.checkFileDestination(URL(fileURLWithPath: output))
        }
        var o = ShapesEvalOptions(directory: set, modelDirectory: modelOption.model)
        o.conditions = try parsedConditions()
        o.limit = limit
        o.threads = threads
        o.precision = try modelOption.precision.resolve(spec: nil)
        o.quiet = quiet
        let report = try ShapesEval.run(o)
        if let output { try AtomicOutput.write(try JSONOutput.string(report, pretty: true) + "\n", to: URL(fileURLWithPath: output)) }
        if json {
            print(try JSONOutput.string(report))
        } else {
            print(report.table, terminator: "")
        }
    }
}
