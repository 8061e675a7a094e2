// A small strict JSON parser (RFC 8259) shared by safetensors headers, shard indexes and config
// files (Checkpoints) and tokenizer files (Tokenizers).
//
// Why not Foundation: JSONSerialization/JSONDecoder took 0.4–1 s on an 11 MB Llama-3-sized
// tokenizer.json here (bridging every value through NSNumber/NSString), and they blur distinctions
// we care about (1 vs true; strings compared up to canonical equivalence). This parser reads UTF-8
// bytes once, keeps object members in file order, never crashes on hostile input (bounded nesting,
// bounds-checked reads) and fails with a typed error carrying the byte offset of the problem.
// Always rejected: invalid UTF-8 in strings, control characters in strings, lone surrogate
// escapes (as serde_json does), leading zeros, `1.`, trailing text. Chosen by the caller
// (`StrictJSON.Options`): the nesting limit and whether a repeated object key is an error.

/// A parsed JSON value. Objects keep their members in document order.
public indirect enum JSONValue: Equatable, Sendable {
    /// Members in file order (duplicate keys only when parsed with `.lastWins`).
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    /// Integers that fit in Int64, kept exact.
    case integer(Int64)
    /// Any other number (fraction, exponent or out of Int64 range).
    case number(Double)
    case bool(Bool)
    case null

    /// Strings and keys compare by their UTF-8 bytes ("é" precomposed and "e" + U+0301 differ),
    /// unlike Swift's String ==, which compares up to canonical equivalence.
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && $0.value == $1.value }
        case let (.array(x), .array(y)): return x == y
        case let (.string(x), .string(y)): return x.utf8.elementsEqual(y.utf8)
        case let (.integer(x), .integer(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    /// The member named `key` (UTF-8 bytes equal) of an object; the last one when the key repeats
    /// (as in serde maps). Nil for a missing key or a value that is not an object.
    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.last { $0.key.utf8.elementsEqual(key.utf8) }?.value
    }

    /// Short type name for error messages.
    public var kind: String {
        switch self {
        case .object: return "object"
        case .array: return "array"
        case .string: return "string"
        case .integer, .number: return "number"
        case .bool: return "boolean"
        case .null: return "null"
        }
    }
}

/// Where and why the text is not JSON. The description is one line:
/// "invalid JSON at byte 21: expected a string key"; callers prefix the file name.
public struct JSONParseError: Error, CustomStringConvertible, Equatable {
    public let offset: Int
    public let message: String
    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }
    public var description: String { "invalid JSON at byte \(offset): \(message)" }
}

public enum StrictJSON {
    /// What the caller allows beyond the fixed strict rules.
    public struct Options: Sendable {
        /// Maximum nesting of arrays and objects (the parser recurses once per level).
        public var maxDepth: Int
        /// True: a repeated key in one object is an error naming the key. False: all members are
        /// kept in order and `JSONValue[key]` returns the last (serde maps behave so).
        public var rejectDuplicateKeys: Bool

        public init(maxDepth: Int, rejectDuplicateKeys: Bool) {
            self.maxDepth = maxDepth
            self.rejectDuplicateKeys = rejectDuplicateKeys
        }

        /// Safetensors headers, shard indexes, configs: nesting ≤ 64, duplicate keys rejected.
        public static let strict = Options(maxDepth: 64, rejectDuplicateKeys: true)
    }

    /// Parses one JSON value spanning `bytes` (surrounding whitespace allowed).
    public static func parse(_ bytes: UnsafeRawBufferPointer, options: Options = .strict) throws(JSONParseError) -> JSONValue {
        var p = Parser(b: bytes, options: options)
        p.skipWhitespace()
        let v = try p.value(depth: 0)
        p.skipWhitespace()
        guard p.i == bytes.count else { throw p.error("unexpected text after the JSON value") }
        return v
    }

    public static func parse(_ bytes: [UInt8], options: Options = .strict) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBytes { raw in
            do throws(JSONParseError) { return .success(try parse(raw, options: options)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private struct Parser {
        let b: UnsafeRawBufferPointer
        let options: Options
        var i = 0
        /// Reused buffer for strings with escapes.
        var scratch: [UInt8] = []

        init(b: UnsafeRawBufferPointer, options: Options) {
            self.b = b
            self.options = options
        }

        func error(_ message: String) -> JSONParseError { JSONParseError(offset: i, message: message) }

        func peek() -> UInt8? { i < b.count ? b[i] : nil }

        @inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

        mutating func skipWhitespace() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        }

        mutating func literal(_ word: StaticString) throws(JSONParseError) {
            let n = word.utf8CodeUnitCount
            guard i + n <= b.count else { throw error("truncated literal") }
            for k in 0 ..< n where b[i + k] != word.utf8Start[k] { throw error("invalid literal") }
            i += n
        }

        mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
            guard depth < options.maxDepth else { throw error("nesting deeper than \(options.maxDepth)") }
            guard let c = peek() else { throw error("unexpected end of input") }
            switch c {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"): return try number()
            default: throw error("unexpected character")
            }
        }

        mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
            i += 1  // {
            var members: [(key: String, value: JSONValue)] = []
            var seen = Set<String>()  // only filled when duplicates are rejected
            skipWhitespace()
            if peek() == UInt8(ascii: "}") { i += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let keyStart = i
                let key = try string()
                if options.rejectDuplicateKeys, !seen.insert(key).inserted {
                    throw JSONParseError(offset: keyStart, message: "duplicate key \"\(key)\"")
                }
                skipWhitespace()
                guard peek() == UInt8(ascii: ":") else { throw error("expected ':'") }
                i += 1
                skipWhitespace()
                members.append((key, try value(depth: depth + 1)))
                skipWhitespace()
                guard let c = peek() else { throw error("unterminated object") }
                if c == UInt8(ascii: ",") { i += 1; continue }
                if c == UInt8(ascii: "}") { i += 1; return .object(members) }
                throw error("expected ',' or '}'")
            }
        }

        mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
            i += 1  // [
            var items: [JSONValue] = []
            skipWhitespace()
            if peek() == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard let c = peek() else { throw error("unterminated array") }
                if c == UInt8(ascii: ",") { i += 1; continue }
                if c == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw error("expected ',' or ']'")
            }
        }

        mutating func number() throws(JSONParseError) -> JSONValue {
            let start = i
            if b[i] == UInt8(ascii: "-") { i += 1 }
            guard let first = peek(), isDigit(first) else { throw error("invalid number") }
            if first == UInt8(ascii: "0") { i += 1 } else { while i < b.count && isDigit(b[i]) { i += 1 } }
            var isInteger = true
            if peek() == UInt8(ascii: ".") {
                isInteger = false
                i += 1
                guard let c = peek(), isDigit(c) else { throw error("invalid number: no digit after '.'") }
                while i < b.count && isDigit(b[i]) { i += 1 }
            }
            if let c = peek(), c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                isInteger = false
                i += 1
                if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { i += 1 }
                guard let c = peek(), isDigit(c) else { throw error("invalid number: no digit in the exponent") }
                while i < b.count && isDigit(b[i]) { i += 1 }
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: b[start ..< i]), as: UTF8.self)
            if isInteger, let v = Int64(text) { return .integer(v) }
            guard let d = Double(text) else { throw JSONParseError(offset: start, message: "invalid number") }
            return .number(d)
        }

        mutating func string() throws(JSONParseError) -> String {
            i += 1  // opening quote
            let start = i
            // Fast path: no escapes, the string is a slice of the input.
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    let s = try validated(UnsafeRawBufferPointer(rebasing: b[start ..< i]))
                    i += 1
                    return s
                }
                if c == UInt8(ascii: "\\") { break }
                if c < 0x20 { throw error("control character in string") }
                i += 1
            }
            // Escapes: decode into `scratch`.
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[start ..< i]))
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    let s = try validated(scratch)
                    i += 1
                    return s
                }
                if c < 0x20 { throw error("control character in string") }
                if c != UInt8(ascii: "\\") { scratch.append(c); i += 1; continue }
                i += 1
                guard i < b.count else { break }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): scratch.append(0x22)
                case UInt8(ascii: "\\"): scratch.append(0x5C)
                case UInt8(ascii: "/"): scratch.append(0x2F)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    var v = try hex4()
                    if (0xD800 ... 0xDBFF).contains(v) {
                        guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate in \\u escape")
                        }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00 ... 0xDFFF).contains(low) else { throw error("unpaired surrogate in \\u escape") }
                        v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00 ... 0xDFFF).contains(v) {
                        throw error("unpaired surrogate in \\u escape")
                    }
                    guard let u = Unicode.Scalar(v) else { throw error("invalid \\u escape") }
                    scratch.append(contentsOf: String(u).utf8)
                default:
                    throw error("invalid escape")
                }
            }
            throw error("unterminated string")
        }

        mutating func hex4() throws(JSONParseError) -> UInt32 {
            guard i + 4 <= b.count else { throw error("truncated \\u escape") }
            var v: UInt32 = 0
            for _ in 0 ..< 4 {
                let c = b[i]
                let d: UInt32
                switch c {
                case UInt8(ascii: "0") ... UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a") ... UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A") ... UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw error("invalid hex digit in \\u escape")
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }

        /// The string of these UTF-8 bytes; the error points at the closing quote.
        func validated(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> String {
            guard let s = String(validating: bytes, as: UTF8.self) else { throw error("invalid UTF-8 in string") }
            return s
        }
    }
}
