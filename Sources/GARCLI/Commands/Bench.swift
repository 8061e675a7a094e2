import ArgumentParser

/// `gar bench <what>`: benchmarks (never tests). Each subcommand prints a table with
/// ratios against a baseline measured in the same run.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks: decode, e2e, faithfulness, model, ops, tokenizer, track, videorefer",
        subcommands: [BenchDecode.self, BenchE2E.self, BenchFaithfulness.self, BenchModel.self, BenchOps.self, BenchTokenizer.self, BenchTrack.self, BenchVideoRefer.self])
}
