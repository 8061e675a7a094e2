// `gar tokenize`: encode a text with a model directory's tokenizer and show ids, tokens and the
// decoded text (as JSON or as a short human-readable listing).
import Foundation
import Tokenizers

public struct TokenizeResult: Codable, Equatable {
    public var ids: [Int]
    /// Token strings as stored in tokenizer.json (byte-level: "Ġ" is a space, "Ċ" a newline).
    public var tokens: [String]
    /// `decode(ids, skipSpecialTokens: false)` with the tokenizer's clean-up setting.
    public var decoded: String
    /// GAR's demo decode of the same ids (skip specials, clean-up, strip).
    public var garDecoded: String
    /// README "JSON outputs" (`tokenize`).
    public var schemaVersion = 1
}

public enum TokenizeJob {
    /// The whole content of a UTF-8 text file (`gar tokenize --file`, `gar bench tokenizer --file`).
    public static func readText(path: String) throws -> String {
        try InputFile.check(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError.io(path: path, reason: "cannot read file")
        }
        guard let s = String(data: data, encoding: .utf8) else {
            throw PipelineError.invalidInput(what: path, reason: "not valid UTF-8")
        }
        return s
    }

    public static func run(modelDirectory: URL, text: String, addSpecialTokens: Bool) throws -> TokenizeResult {
        let tokenizer = try Tokenizer.load(directory: modelDirectory)
        return run(tokenizer: tokenizer, text: text, addSpecialTokens: addSpecialTokens)
    }

    public static func run(tokenizer: Tokenizer, text: String, addSpecialTokens: Bool) -> TokenizeResult {
        let ids = tokenizer.encode(text, addSpecialTokens: addSpecialTokens)
        return TokenizeResult(ids: ids, tokens: ids.map { tokenizer.token(of: $0) ?? "" },
                              decoded: tokenizer.decode(ids, skipSpecialTokens: false),
                              garDecoded: tokenizer.garDecode(ids))
    }

    public static func json(_ result: TokenizeResult) throws -> String {
        try JSONOutput.string(result)
    }

    public static func listing(_ result: TokenizeResult) -> String {
        var lines = ["\(result.ids.count) tokens"]
        lines.append("ids:     " + result.ids.map(String.init).joined(separator: " "))
        lines.append("tokens:  " + result.tokens.map { escapeControls($0) }.joined(separator: " | "))
        lines.append("decoded: " + escapeControls(result.decoded))
        return lines.joined(separator: "\n")
    }

    /// Shows control characters as \n, \t, \u{..} so the listing stays one line per field.
    static func escapeControls(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
