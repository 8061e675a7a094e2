import ArgumentParser

struct Ask: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask", abstract: "Ask a question about regions of an image or video (not built yet)")
    func run() async throws { throw ValidationError("gar ask is not built yet") }
}
