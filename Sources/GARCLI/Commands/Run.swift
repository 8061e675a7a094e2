import ArgumentParser

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a pipeline YAML spec (not built yet)")
    func run() async throws { throw ValidationError("gar run is not built yet") }
}
