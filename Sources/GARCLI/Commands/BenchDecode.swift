import ArgumentParser

struct BenchDecode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode", abstract: "Benchmark: decode (not built yet)")
    func run() async throws { throw ValidationError("gar bench decode is not built yet") }
}
