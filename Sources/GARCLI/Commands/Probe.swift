import ArgumentParser

struct Probe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe", abstract: "Describe a video file as JSON (not built yet)")
    func run() async throws { throw ValidationError("gar probe is not built yet") }
}
