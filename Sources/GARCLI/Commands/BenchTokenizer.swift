import ArgumentParser

struct BenchTokenizer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenizer", abstract: "Benchmark: tokenizer (not built yet)")
    func run() async throws { throw ValidationError("gar bench tokenizer is not built yet") }
}
