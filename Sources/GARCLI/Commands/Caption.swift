import ArgumentParser

struct Caption: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caption", abstract: "Track a region through a video and describe it (not built yet)")
    func run() async throws { throw ValidationError("gar caption is not built yet") }
}
