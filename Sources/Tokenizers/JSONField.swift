// Reading JSON files field by field with the field's path at hand, so that every error names the
// file and the field ("tokenizer.json: model.merges[12]: expected 2 tokens").
import Foundation
import JSONCore

struct JSONField {
    /// The value at this path: nil when the key is absent.
    let value: JSONValue?
    /// Dotted path with array indices, e.g. `model.merges[12]`; empty for the root.
    let path: String
    /// File name used in error messages.
    let file: String

    /// Parses `url` into a root field. Missing file and invalid JSON become TokenizerErrors.
    static func load(_ url: URL) throws -> JSONField {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TokenizerError.fileMissing(path: url.path)
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TokenizerError.unreadable(path: url.path, reason: "cannot read file")
        }
        return try parse([UInt8](data), file: url.path)
    }

    /// How tokenizer files are parsed: duplicate keys are kept and the last one wins, as in the
    /// serde maps the tokenizers library reads them into; deep nesting is allowed (normalizer and
    /// pre-tokenizer sequences nest) up to a bound that keeps the recursion safe.
    static let parseOptions = StrictJSON.Options(maxDepth: 512, rejectDuplicateKeys: false)

    static func parse(_ bytes: [UInt8], file: String) throws -> JSONField {
        do {
            return JSONField(value: try StrictJSON.parse(bytes, options: parseOptions), path: "", file: file)
        } catch {
            throw TokenizerError.unreadable(path: file, reason: "\(error)")
        }
    }

    var exists: Bool { value != nil }
    /// True when absent or JSON null.
    var isNull: Bool {
        if let value, value != .null { return false }
        return true
    }

    subscript(key: String) -> JSONField {
        JSONField(value: value?[key], path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    /// The field for an array element or object member already in hand (path built here).
    func child(_ index: Int, _ value: JSONValue) -> JSONField {
        JSONField(value: value, path: "\(path)[\(index)]", file: file)
    }

    func child(key: String, _ value: JSONValue) -> JSONField {
        JSONField(value: value, path: "\(path)[\(quoted(key))]", file: file)
    }

    func error(_ problem: String) -> TokenizerError {
        .malformed(file: file, field: path, problem: problem)
    }

    var typeName: String {
        switch value {
        case nil: return "nothing (field missing)"
        case .null?: return "null"
        case .bool?: return "a boolean"
        case .string?: return "a string"
        case .array?: return "an array"
        case .object?: return "an object"
        case .integer?, .number?: return "a number"
        }
    }

    /// Members of an object, in file order.
    func members() throws -> [(key: String, value: JSONValue)] {
        guard case let .object(m)? = value else { throw error("expected an object, found \(typeName)") }
        return m
    }

    /// Elements of an array, without building a path per element (for large arrays).
    func elements() throws -> [JSONValue] {
        guard case let .array(a)? = value else { throw error("expected an array, found \(typeName)") }
        return a
    }

    /// Elements of an array as fields (each with its path).
    func array() throws -> [JSONField] {
        try elements().enumerated().map { child($0.offset, $0.element) }
    }

    func string() throws -> String {
        guard case let .string(s)? = value else { throw error("expected a string, found \(typeName)") }
        return s
    }

    /// A string, or nil when the field is absent or null.
    func optionalString() throws -> String? {
        isNull ? nil : try string()
    }

    func int() throws -> Int {
        switch value {
        case let .integer(n)?: return Int(n)  // Int is 64-bit on the supported platforms
        case let .number(d)? where d == d.rounded() && abs(d) < 9.0e15: return Int(d)
        default: throw error("expected an integer, found \(typeName)")
        }
    }

    /// A boolean; `default` when the field is absent or null.
    func bool(default fallback: Bool) throws -> Bool {
        if isNull { return fallback }
        guard case let .bool(b)? = value else { throw error("expected true or false, found \(typeName)") }
        return b
    }

    /// A number (for optional floating-point fields such as BPE dropout), nil when absent or null.
    func optionalDouble() throws -> Double? {
        switch value {
        case nil, .null?: return nil
        case let .integer(n)?: return Double(n)
        case let .number(d)?: return d
        default: throw error("expected a number, found \(typeName)")
        }
    }
}
