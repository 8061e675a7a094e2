import ArgumentParser

struct EvalTrack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-track", abstract: "Evaluate the tracker on a DAVIS-layout dataset (J&F) (not built yet)")
    func run() async throws { throw ValidationError("gar eval-track is not built yet") }
}
