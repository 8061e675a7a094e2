// The byte-level alphabet of GPT-2 / Llama-3 BPE (tokenizers `pre_tokenizers/byte_level.rs`,
// `bytes_char`). Every byte 0...255 is shown as one printable character: the printable bytes
// '!'...'~', 0xA1...0xAC and 0xAE...0xFF stand for themselves, the other 68 bytes map in order to
// U+0100, U+0101, ... (so a space 0x20 is 'Ġ' U+0120 and a newline 0x0A is 'Ċ' U+010A).
//
// Vocabulary entries are strings over this alphabet. We convert them back to raw bytes once at
// load time, so encoding runs on the input's UTF-8 bytes and never builds byte-level strings.

enum ByteLevel {
    /// `character[b]` is the scalar value that stands for byte `b`.
    static let character: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// Inverse of `character`: the byte a scalar stands for, or nil when it is not in the alphabet.
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = scalar.value
        if v < 256 {
            return character[Int(v)] == v ? UInt8(v) : nil
        }
        if v < 256 + 68 {
            return inverseHigh[Int(v - 256)]
        }
        return nil
    }

    /// Bytes mapped to U+0100 + n, indexed by n.
    private static let inverseHigh: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 68)
        for b in 0..<256 where character[b] >= 256 {
            table[Int(character[b] - 256)] = UInt8(b)
        }
        return table
    }()

    /// The raw bytes a byte-level token string stands for, or nil when some character of it is
    /// not in the alphabet (such a token can never be produced by encoding).
    static func bytes(ofToken token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            guard let b = byte(for: scalar) else { return nil }
            out.append(b)
        }
        return out
    }

    /// What the ByteLevel *decoder* emits for one token (`decode_chain`): the bytes its characters
    /// stand for, or — when any character is outside the alphabet — the token's own UTF-8 bytes.
    static func decodedBytes(ofToken token: String) -> [UInt8] {
        bytes(ofToken: token) ?? Array(token.utf8)
    }

    /// The byte-level string for raw bytes (for showing tokens, e.g. `gar tokenize`).
    static func string(ofBytes bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes {
            s.append(Unicode.Scalar(character[Int(b)])!)  // always < U+0144
        }
        return String(s)
    }
}
