import ArgumentParser

struct BenchVideoRefer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "videorefer", abstract: "Benchmark: videorefer (not built yet)")
    func run() async throws { throw ValidationError("gar bench videorefer is not built yet") }
}
