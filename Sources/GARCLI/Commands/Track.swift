import ArgumentParser

struct Track: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "track", abstract: "Track a prompted region through a video (not built yet)")
    func run() async throws { throw ValidationError("gar track is not built yet") }
}
