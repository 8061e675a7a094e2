import ArgumentParser

struct Batch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch", abstract: "Process a folder of videos (resumable, shardable) (not built yet)")
    func run() async throws { throw ValidationError("gar batch is not built yet") }
}
