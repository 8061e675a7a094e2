// Text rules applied after decoding, each reproducing one piece of the Python stack exactly.

public enum TextCleanup {
    /// transformers' `clean_up_tokenization` (used when `clean_up_tokenization_spaces` is true):
    /// these `str.replace` calls, in this order, each replacing all non-overlapping occurrences left
    /// to right. Done on UTF-8 bytes: the patterns are ASCII, so this matches Python's code-point
    /// replace (and never treats "." + a combining mark as one character, as Swift String would).
    static let replacements: [(String, String)] = [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"),
        (" n't", "n't"), (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ]

    /// Bytes that can be part of a cleanup pattern. Any other byte never takes part in a
    /// replacement, so cleanup of a text equals cleanup of its pieces cut at such a byte.
    static let patternBytes: Set<UInt8> = Set(replacements.flatMap { Array($0.0.utf8) })

    public static func cleanUpTokenizationSpaces(_ text: String) -> String {
        String(decoding: cleanUp(Array(text.utf8)), as: UTF8.self)
    }

    static func cleanUp(_ bytes: [UInt8]) -> [UInt8] {
        var current = bytes
        for (from, to) in replacements {
            current = replaceAll(current, Array(from.utf8), Array(to.utf8))
        }
        return current
    }

    private static func replaceAll(_ s: [UInt8], _ pattern: [UInt8], _ replacement: [UInt8]) -> [UInt8] {
        guard s.count >= pattern.count else { return s }
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            if i + pattern.count <= s.count && s[i] == pattern[0] && s[i..<i + pattern.count].elementsEqual(pattern) {
                out += replacement
                i += pattern.count
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    /// Python's `str.isspace()` set, which `str.strip()` (and jinja's `trim`) removes: the Unicode
    /// White_Space characters plus U+001C...U+001F (bidi class B/S). Not U+200B, U+FEFF or U+180E.
    public static func isPythonWhitespace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Python `str.strip()` with no arguments.
    public static func pythonStrip(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isPythonWhitespace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isPythonWhitespace($0) })!  // exists: `first` does
        return String(scalars[first...last])
    }

    /// Lossy UTF-8 decoding (Rust `String::from_utf8_lossy` / Python `errors="replace"`): each
    /// maximal ill-formed subsequence becomes one U+FFFD.
    public static func lossyUTF8(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
