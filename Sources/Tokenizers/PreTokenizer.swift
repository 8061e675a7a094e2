// The Llama-3 pre-tokenizer: tokenizers' Split(pattern, behavior: Isolated) with the regex
//
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// implemented as a hand-written matcher over the UTF-8 bytes of the text (decoded to scalars on the
// fly), with the exact semantics of the backtracking engine (Oniguruma) the library compiles it with:
// at each position the alternatives are tried in order and the first that matches wins. Every scalar
// is covered by some alternative and none can match empty, so the text is cut into consecutive pieces
// with no gaps. Worked out alternative by alternative (c = the scalar at the current position):
//
//  1. `'` followed by s|S|ſ (U+017F), t|T, m|M, d|D, or by re, ve, ll in any case (the only case
//     variants Oniguruma's Unicode case folding accepts for these letters — checked by the generator).
//  2. c is a letter: the run of letters. Or c is none of \r, \n, letter, number and the next scalar is a
//     letter: c plus that run (" the", "\tthe", "(the", "'the").
//  3. c is a number: up to three numbers.
//  4. An optional ASCII space, then a run of "other" scalars (not whitespace, letter or number), then
//     any \r and \n: " ...", "!!!\n", " .".
//  5-7. c is whitespace. Let W be the maximal whitespace run starting at c.
//     5. `\s*[\r\n]+`: if W contains \r or \n, the match ends just after the last \r or \n in W
//        (greedy \s* backs off until [\r\n]+ can match).
//     6. `\s+(?!\S)`: if W reaches the end of the text, all of W; otherwise, if W has at least two
//        scalars, W without its last scalar (that one joins the next word as in " the").
//     7. `\s+`: W (a single whitespace scalar followed by a non-whitespace).

/// Cuts UTF-8 text into pre-tokens. Input must be valid UTF-8 (it comes from a Swift String).
struct Llama3PreTokenizer: Sendable {
    let classes = ScalarClasses.shared

    /// Calls `body(start, end)` for each piece of `text[range]`, in order (byte offsets into `text`).
    @inline(__always)
    func split(_ text: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int,
               _ body: (Int, Int) -> Void) {
        classes.bmp.withUnsafeBufferPointer { bmp in
            var i = start
            while i < end {
                let next = matchEnd(text, at: i, end: end, bmp: bmp)
                body(i, next)
                i = next
            }
        }
    }

    // MARK: - The matcher

    /// Decodes the scalar at `i` (valid UTF-8 assumed). Returns its value and byte length.
    @inline(__always)
    private func scalar(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
        let b0 = UInt32(p[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
        if b0 < 0xF0 {
            return ((b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3)
        }
        return ((b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6
                | UInt32(p[i + 3] & 0x3F), 4)
    }

    @inline(__always)
    private func flags(_ v: UInt32, _ bmp: UnsafeBufferPointer<UInt8>) -> UInt8 {
        v < 0x10000 ? bmp[Int(v)] : classes.flags(v)
    }

    /// End (exclusive byte offset) of the piece that starts at `i`.
    private func matchEnd(_ p: UnsafeBufferPointer<UInt8>, at i: Int, end: Int,
                          bmp: UnsafeBufferPointer<UInt8>) -> Int {
        let (c, len) = scalar(p, i)
        let cFlags = flags(c, bmp)

        // 1. Contractions.
        if c == 0x27, let n = contractionLength(p, i + 1, end) {
            return i + 1 + n
        }

        // 2. Optional non-letter/number/CR/LF prefix, then letters.
        if cFlags & ScalarClasses.letter != 0 {
            return endOfRun(p, from: i + len, end: end, bmp: bmp, flag: ScalarClasses.letter)
        }
        if cFlags & ScalarClasses.number == 0 && c != 0x0D && c != 0x0A && i + len < end {
            let (n, nLen) = scalar(p, i + len)
            if flags(n, bmp) & ScalarClasses.letter != 0 {
                return endOfRun(p, from: i + len + nLen, end: end, bmp: bmp, flag: ScalarClasses.letter)
            }
        }

        // 3. One to three numbers.
        if cFlags & ScalarClasses.number != 0 {
            var j = i + len
            for _ in 0..<2 where j < end {
                let (n, nLen) = scalar(p, j)
                guard flags(n, bmp) & ScalarClasses.number != 0 else { break }
                j += nLen
            }
            return j
        }

        // 4. Optional space, "other" scalars, then any CR/LF.
        var otherStart = -1
        if cFlags == 0 {
            otherStart = i
        } else if c == 0x20 && i + 1 < end {
            let (n, _) = scalar(p, i + 1)
            if flags(n, bmp) == 0 { otherStart = i + 1 }
        }
        if otherStart >= 0 {
            var j = otherStart
            while j < end {
                let (n, nLen) = scalar(p, j)
                guard flags(n, bmp) == 0 else { break }
                j += nLen
            }
            while j < end && (p[j] == 0x0D || p[j] == 0x0A) { j += 1 }
            return j
        }

        // 5-7. c is whitespace: scan the whitespace run, remembering the last CR/LF and the start
        // of the last scalar.
        var j = i
        var afterLastNewline = -1
        var lastScalarStart = i
        var scalarsInRun = 0
        while j < end {
            let (n, nLen) = scalar(p, j)
            guard flags(n, bmp) & ScalarClasses.whitespace != 0 else { break }
            if n == 0x0D || n == 0x0A { afterLastNewline = j + 1 }
            lastScalarStart = j
            scalarsInRun += 1
            j += nLen
        }
        if afterLastNewline >= 0 { return afterLastNewline }  // 5.
        if j == end { return j }                               // 6. (run reaches the end)
        if scalarsInRun >= 2 { return lastScalarStart }        // 6. (leave one for the next word)
        return j                                               // 7.
    }

    /// Length of the contraction suffix after an apostrophe at `j` (0 when none).
    @inline(__always)
    private func contractionLength(_ p: UnsafeBufferPointer<UInt8>, _ j: Int, _ end: Int) -> Int? {
        guard j < end else { return nil }
        let a = p[j] | 0x20  // ASCII lower-case (only compared against letters below)
        switch a {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"):
            return isASCIILetter(p[j]) ? 1 : nil
        case UInt8(ascii: "r"), UInt8(ascii: "v"):
            guard isASCIILetter(p[j]), j + 1 < end, p[j + 1] | 0x20 == UInt8(ascii: "e"),
                  isASCIILetter(p[j + 1]) else { return nil }
            return 2
        case UInt8(ascii: "l"):
            guard isASCIILetter(p[j]), j + 1 < end, p[j + 1] | 0x20 == UInt8(ascii: "l"),
                  isASCIILetter(p[j + 1]) else { return nil }
            return 2
        default:
            // U+017F LATIN SMALL LETTER LONG S (UTF-8 C5 BF) case-folds to 's'.
            if p[j] == 0xC5 && j + 1 < end && p[j + 1] == 0xBF { return 2 }
            return nil
        }
    }

    @inline(__always)
    private func isASCIILetter(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    /// End of the run of scalars carrying `flag`, starting at `j`.
    @inline(__always)
    private func endOfRun(_ p: UnsafeBufferPointer<UInt8>, from j: Int, end: Int,
                          bmp: UnsafeBufferPointer<UInt8>, flag: UInt8) -> Int {
        var j = j
        while j < end {
            let (n, nLen) = scalar(p, j)
            guard flags(n, bmp) & flag != 0 else { break }
            j += nLen
        }
        return j
    }
}
