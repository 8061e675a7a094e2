// Incremental detokenisation for generation: feed ids one at a time, get text as soon as it is final.
//
// The concatenation of everything `push` and `finish` return equals the one-shot result:
//   decode(ids, skipSpecialTokens:, cleanUp:)            with strip: false
//   pythonStrip(decode(ids, skipSpecialTokens:, cleanUp:)) with strip: true  (garDecode when skip and cleanUp)
// and no returned piece ever splits a UTF-8 character or shows a U+FFFD that later bytes would have
// completed. Three stages, each holding back only what could still change:
//   1. bytes → text: a trailing incomplete-but-valid UTF-8 prefix (at most 3 bytes) waits for more
//      bytes; everything before it is decoded (lossy) and final, because a maximal ill-formed
//      subsequence never reaches past the next lead byte;
//   2. cleanup (optional): the replacements only involve the bytes " .?!,'nmstvre", so the text up to
//      and including the last other byte is final (cleanup of A + x + B = cleanup(A) + x + cleanup(B)
//      when x is not in that set);
//   3. strip (optional): leading whitespace is dropped until the first non-whitespace; trailing
//      whitespace waits until something follows it, and is dropped by `finish`.

public struct StreamingDecoder {
    public let tokenizer: Tokenizer
    public let skipSpecialTokens: Bool
    public let cleanUp: Bool
    public let strip: Bool

    private var pendingBytes: [UInt8] = []   // stage 1: incomplete UTF-8 tail
    private var pendingText: [UInt8] = []    // stage 2: valid UTF-8 not yet past a cleanup barrier
    private var pendingSpace = ""            // stage 3: trailing whitespace held back
    private var started = false              // stage 3: a non-whitespace scalar was emitted

    /// Defaults reproduce `garDecode` (skip specials, the tokenizer's cleanup setting, strip).
    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = true, cleanUp: Bool? = nil, strip: Bool = true) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
        self.cleanUp = cleanUp ?? tokenizer.cleanUpTokenizationSpaces
        self.strip = strip
    }

    /// Adds one id; returns the text that became final (often "").
    public mutating func push(_ id: Int) -> String {
        push([id])
    }

    /// Adds several ids; returns the text that became final.
    public mutating func push(_ ids: [Int]) -> String {
        tokenizer.appendBytes(of: ids, skipSpecialTokens: skipSpecialTokens, to: &pendingBytes)
        let keep = incompleteTailLength(pendingBytes)
        let ready = pendingBytes[..<(pendingBytes.count - keep)]
        let text = TextCleanup.lossyUTF8(ready)
        pendingBytes.removeFirst(pendingBytes.count - keep)
        return emit(text, final: false)
    }

    /// Flushes everything held back (an incomplete character becomes U+FFFD) and resets.
    public mutating func finish() -> String {
        let text = TextCleanup.lossyUTF8(pendingBytes)
        pendingBytes.removeAll()
        let out = emit(text, final: true)
        pendingText.removeAll()
        pendingSpace = ""
        started = false
        return out
    }

    // MARK: - Stages 2 and 3

    private mutating func emit(_ text: String, final: Bool) -> String {
        var chunk: String
        if cleanUp {
            pendingText += Array(text.utf8)
            let cut = final ? pendingText.count
                : (pendingText.lastIndex { !TextCleanup.patternBytes.contains($0) }.map { $0 + 1 } ?? 0)
            chunk = String(decoding: TextCleanup.cleanUp(Array(pendingText[..<cut])), as: UTF8.self)
            pendingText.removeFirst(cut)
        } else {
            chunk = text
        }
        guard strip else { return chunk }

        if !started {
            chunk = String(chunk.unicodeScalars.drop(while: TextCleanup.isPythonWhitespace))
            if chunk.isEmpty { return "" }
            started = true
        }
        var all = pendingSpace + chunk
        // Hold back trailing whitespace (dropped for good at the end).
        let scalars = all.unicodeScalars
        var end = scalars.endIndex
        while end > scalars.startIndex {
            let before = scalars.index(before: end)
            guard TextCleanup.isPythonWhitespace(scalars[before]) else { break }
            end = before
        }
        pendingSpace = final ? "" : String(scalars[end...])
        all = String(scalars[..<end])
        return all
    }

    // MARK: - Stage 1

    /// Length of a trailing sequence that is a valid but unfinished UTF-8 character (0...3).
    private func incompleteTailLength(_ b: [UInt8]) -> Int {
        let n = b.count
        var k = n - 1
        // Find the last lead byte within the final 3 bytes.
        while k >= 0 && k >= n - 3 && b[k] & 0xC0 == 0x80 { k -= 1 }
        guard k >= 0 && k >= n - 3 else { return 0 }
        let lead = b[k]
        let need: Int
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: return 0  // ASCII, or a byte that can never start a character
        }
        let have = n - k
        guard have < need else { return 0 }
        // The second byte's range depends on the lead (no overlongs, surrogates or > U+10FFFF).
        if have >= 2 {
            let second = b[k + 1]
            let ok: Bool
            switch lead {
            case 0xE0: ok = (0xA0...0xBF).contains(second)
            case 0xED: ok = (0x80...0x9F).contains(second)
            case 0xF0: ok = (0x90...0xBF).contains(second)
            case 0xF4: ok = (0x80...0x8F).contains(second)
            default: ok = (0x80...0xBF).contains(second)
            }
            if !ok { return 0 }
        }
        return have
    }
}
