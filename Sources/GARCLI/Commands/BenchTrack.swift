import ArgumentParser

struct BenchTrack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "track", abstract: "Benchmark: track (not built yet)")
    func run() async throws { throw ValidationError("gar bench track is not built yet") }
}
