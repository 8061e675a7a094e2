import ArgumentParser

/// `gar bench <what>`: benchmarks (never tests). Each subcommand prints a table with
/// ratios against a baseline measured in the same run.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks: decode, model, tokenizer, track, videorefer",
        subcommands: [BenchDecode.self, BenchModel.self, BenchOps.self, BenchTokenizer.self, BenchTrack.self, BenchVideoRefer.self])
}
