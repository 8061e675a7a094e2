import ArgumentParser

struct BenchModel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model", abstract: "Benchmark: model (not built yet)")
    func run() async throws { throw ValidationError("gar bench model is not built yet") }
}
