import ArgumentParser
import Foundation
import Pipeline

struct Tokenize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Tokenize text with a model directory's tokenizer (ids, tokens, decoded text).")

    @Option(name: .long, help: "Model directory with tokenizer.json and tokenizer_config.json.")
    var model: String

    @Option(name: .long, help: "Text to tokenize.")
    var text: String?

    @Option(name: .long, help: "UTF-8 file whose whole content is tokenized.")
    var file: String?

    @Flag(name: .long, help: "Do not add special tokens (no BOS).")
    var noSpecial = false

    @Flag(name: .long, help: "Print JSON: {ids, tokens, decoded, gar_decoded}.")
    var json = false

    func validate() throws {
        guard (text == nil) != (file == nil) else { throw ValidationError("give exactly one of --text or --file") }
    }

    func run() async throws {
        let input = try text ?? TokenizeJob.readText(path: file ?? "")
        let result = try TokenizeJob.run(modelDirectory: URL(fileURLWithPath: model), text: input,
                                         addSpecialTokens: !noSpecial)
        print(json ? try TokenizeJob.json(result) : TokenizeJob.listing(result))
    }
}
