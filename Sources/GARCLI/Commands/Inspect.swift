import ArgumentParser

struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Summarise a GAR checkpoint directory (not built yet)")
    func run() async throws { throw ValidationError("gar inspect is not built yet") }
}
