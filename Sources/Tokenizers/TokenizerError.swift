// Errors of the Tokenizers module. Every description is one line that names the input (a file and,
// where there is one, the JSON field) and the problem, e.g.
//   "/m/tokenizer.json: model.merges[12]: expected 2 tokens"

public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// A required file is not in the model directory.
    case fileMissing(path: String)
    /// A file exists but could not be read or is not valid JSON.
    case unreadable(path: String, reason: String)
    /// A JSON field is missing or has the wrong shape or value.
    case malformed(file: String, field: String, problem: String)
    /// A component (model type, pre-tokenizer, normalizer, ...) that this implementation does not
    /// run. `supported` lists what it does run.
    case unsupported(file: String, field: String, found: String, supported: String)
    /// A token looked up by name is not in the vocabulary.
    case unknownToken(String)
    /// No chat template in the model directory (the places looked at are listed).
    case chatTemplateMissing(looked: [String])
    /// The model directory's chat template is not the PerceptionLM template this module renders.
    case chatTemplateNotPLM(source: String, detail: String)
    /// A conversation the PLM template cannot render faithfully.
    case invalidConversation(String)

    public var description: String {
        switch self {
        case let .fileMissing(path):
            return "\(path): file not found"
        case let .unreadable(path, reason):
            return "\(path): \(reason)"
        case let .malformed(file, field, problem):
            return field.isEmpty ? "\(file): \(problem)" : "\(file): \(field): \(problem)"
        case let .unsupported(file, field, found, supported):
            return "\(file): \(field): unsupported \(found) (supported: \(supported))"
        case let .unknownToken(token):
            return "token \(quoted(token)) is not in the tokenizer's vocabulary"
        case let .chatTemplateMissing(looked):
            return "no chat template found (looked in \(looked.joined(separator: ", ")))"
        case let .chatTemplateNotPLM(source, detail):
            return "\(source): chat template is not the PerceptionLM template this build renders natively (\(detail))"
        case let .invalidConversation(reason):
            return "conversation: \(reason)"
        }
    }
}

/// Quotes a string for an error message, escaping control characters so the message stays on one line.
func quoted(_ s: String, limit: Int = 60) -> String {
    var out = "\""
    var count = 0
    for scalar in s.unicodeScalars {
        if count == limit { out += "…"; break }
        count += 1
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
                || scalar.value == 0x2028 || scalar.value == 0x2029 {
                out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
