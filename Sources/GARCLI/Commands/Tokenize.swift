import ArgumentParser

struct Tokenize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize", abstract: "Tokenize text with a model's tokenizer (not built yet)")
    func run() async throws { throw ValidationError("gar tokenize is not built yet") }
}
