import ArgumentParser

struct Frames: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames", abstract: "Sample frames from a video and write them as PNGs (not built yet)")
    func run() async throws { throw ValidationError("gar frames is not built yet") }
}
