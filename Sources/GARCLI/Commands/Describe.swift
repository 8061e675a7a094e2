import ArgumentParser

struct Describe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe", abstract: "Describe a masked region of an image (not built yet)")
    func run() async throws { throw ValidationError("gar describe is not built yet") }
}
