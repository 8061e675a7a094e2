// Added and special tokens (tokenizers `tokenizer/added_vocabulary.rs`). They are split out of the
// text before pre-tokenization and BPE:
//
//   pass 1: tokens with normalized == false (all special tokens of Llama-3/PLM/GAR) are matched on
//           the raw text;
//   pass 2: tokens with normalized == true are matched inside the pieces pass 1 left over (this
//           implementation supports no normalizer, so "normalized" text is the raw text).
//
// Matching is leftmost-longest (aho-corasick MatchKind::LeftmostLongest): the earliest match wins,
// and among matches starting there the longest. After a match — even one discarded by single_word —
// the search resumes at its (unstripped) end. Flags, as the library applies them:
//   single_word  the match is discarded when a word character (\w, Unicode) touches it on either side;
//   lstrip       the match swallows the whitespace (\s) run before it (not past the previous match);
//   rstrip       the match swallows the whitespace run after it.
// Empty pieces are dropped.

struct AddedToken: Sendable, Equatable {
    let id: Int
    let content: String
    let singleWord: Bool
    let lstrip: Bool
    let rstrip: Bool
    let normalized: Bool
    let special: Bool
}

/// A byte trie over the contents of one set of added tokens, matched leftmost-longest.
struct AddedTokenMatcher: Sendable {
    /// (node << 8 | byte) → child node.
    private let edges: UInt64Table
    /// Token index (into `tokens`) ending at each node, -1 when none.
    private let terminal: [Int32]
    /// Bytes that start some token (a quick filter before walking the trie).
    private let firstBytes: [Bool]
    let tokens: [AddedToken]

    init(_ tokens: [AddedToken]) {
        var edges = UInt64Table(minimumCapacity: tokens.reduce(0) { $0 + $1.content.utf8.count })
        var terminal: [Int32] = [-1]
        var first = [Bool](repeating: false, count: 256)
        for (index, token) in tokens.enumerated() {
            var node = 0
            for b in token.content.utf8 {
                let key = UInt64(node) << 8 | UInt64(b)
                if let child = edges.get(key) {
                    node = Int(child)
                } else {
                    terminal.append(-1)
                    edges.set(key, UInt64(terminal.count - 1))
                    node = terminal.count - 1
                }
            }
            if node > 0 && terminal[node] < 0 { terminal[node] = Int32(index) }
            if let b = token.content.utf8.first { first[Int(b)] = true }
        }
        self.edges = edges
        self.terminal = terminal
        self.firstBytes = first
        self.tokens = tokens
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// Leftmost-longest match in `text[from..<end]`: (start, end, token index) or nil.
    func nextMatch(_ text: UnsafeBufferPointer<UInt8>, from: Int, end: Int) -> (Int, Int, Int)? {
        var i = from
        while i < end {
            if firstBytes[Int(text[i])] {
                var node = 0
                var best: (Int, Int)? = nil
                var j = i
                while j < end, let child = edges.get(UInt64(node) << 8 | UInt64(text[j])) {
                    node = Int(child)
                    j += 1
                    if terminal[node] >= 0 { best = (j, Int(terminal[node])) }
                }
                if let (stop, token) = best { return (i, stop, token) }
            }
            i += 1
        }
        return nil
    }
}

/// One piece of the text after added-token extraction: either an added token id or a byte range of
/// ordinary text to pre-tokenize.
enum TextPiece: Equatable {
    case token(Int)
    case text(Int, Int)
}

struct AddedVocabulary: Sendable {
    let all: [AddedToken]
    let rawMatcher: AddedTokenMatcher         // normalized == false
    let normalizedMatcher: AddedTokenMatcher  // normalized == true
    let classes = ScalarClasses.shared

    init(_ tokens: [AddedToken]) {
        all = tokens
        rawMatcher = AddedTokenMatcher(tokens.filter { !$0.normalized })
        normalizedMatcher = AddedTokenMatcher(tokens.filter { $0.normalized })
    }

    /// Splits `text` into added tokens and ordinary text pieces (both passes), appending to `out`.
    func split(_ text: UnsafeBufferPointer<UInt8>, into out: inout [TextPiece]) {
        if text.isEmpty { return }
        if rawMatcher.isEmpty && normalizedMatcher.isEmpty {
            out.append(.text(0, text.count))
            return
        }
        var firstPass: [TextPiece] = []
        findMatches(text, 0, text.count, rawMatcher, into: &firstPass)
        for piece in firstPass {
            if case let .text(a, b) = piece {
                findMatches(text, a, b, normalizedMatcher, into: &out)
            } else {
                out.append(piece)
            }
        }
    }

    /// `find_matches` on the piece `text[start..<end]`; appends non-empty pieces.
    private func findMatches(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int,
                             _ matcher: AddedTokenMatcher, into out: inout [TextPiece]) {
        guard !matcher.isEmpty else {
            if start < end { out.append(.text(start, end)) }
            return
        }
        var offset = start  // start_offset: end of the previous accepted match
        var searchFrom = start
        while let (mStart, mEnd, index) = matcher.nextMatch(text, from: searchFrom, end: end) {
            searchFrom = mEnd
            let token = matcher.tokens[index]
            var a = mStart, b = mEnd
            if token.singleWord {
                let startSpace = a == start || !isWordScalar(lastScalar(text, start, a))
                let stopSpace = b == end || !isWordScalar(firstScalar(text, b, end))
                if !startSpace || !stopSpace { continue }
            }
            if token.lstrip {
                a = max(whitespaceRunStart(text, start, a), offset)
            }
            if token.rstrip {
                // The search still resumes at the match's own end (the library's find_iter does
                // not see the stripped whitespace), so a later match may start inside it.
                b = whitespaceRunEnd(text, b, end)
            }
            if offset < a { out.append(.text(offset, a)) }
            out.append(.token(token.id))
            offset = b
        }
        if offset < end { out.append(.text(offset, end)) }
    }

    // MARK: - Scalar helpers (text is valid UTF-8)

    private func scalarStart(_ text: UnsafeBufferPointer<UInt8>, before i: Int) -> Int {
        var j = i - 1
        while j > 0 && text[j] & 0xC0 == 0x80 { j -= 1 }
        return j
    }

    private func decode(_ text: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
        let b0 = UInt32(text[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(text[i + 1] & 0x3F), 2) }
        if b0 < 0xF0 { return ((b0 & 0x0F) << 12 | UInt32(text[i + 1] & 0x3F) << 6 | UInt32(text[i + 2] & 0x3F), 3) }
        return ((b0 & 0x07) << 18 | UInt32(text[i + 1] & 0x3F) << 12 | UInt32(text[i + 2] & 0x3F) << 6
                | UInt32(text[i + 3] & 0x3F), 4)
    }

    private func lastScalar(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ i: Int) -> UInt32 {
        decode(text, max(scalarStart(text, before: i), start)).0
    }

    private func firstScalar(_ text: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> UInt32 {
        decode(text, i).0
    }

    private func isWhitespace(_ v: UInt32) -> Bool {
        classes.flags(v) & ScalarClasses.whitespace != 0
    }

    /// Start of the whitespace run that ends at `i` (within `start..<i`).
    private func whitespaceRunStart(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ i: Int) -> Int {
        var j = i
        while j > start {
            let k = max(scalarStart(text, before: j), start)
            guard isWhitespace(decode(text, k).0) else { break }
            j = k
        }
        return j
    }

    /// End of the whitespace run that starts at `i` (within `i..<end`).
    private func whitespaceRunEnd(_ text: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        var j = i
        while j < end {
            let (v, len) = decode(text, j)
            guard isWhitespace(v) else { break }
            j += len
        }
        return j
    }

    /// Rust `regex` \w with Unicode: Alphabetic, marks (M*), decimal numbers (Nd), connector
    /// punctuation (Pc) and Join_Control. Taken from Swift's Unicode tables, which may trail or lead
    /// the Rust crate's Unicode version on newly assigned characters (only `single_word` uses it).
    private func isWordScalar(_ v: UInt32) -> Bool {
        guard let s = Unicode.Scalar(v) else { return false }
        let p = s.properties
        if p.isAlphabetic || p.isJoinControl { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation:
            return true
        default:
            return false
        }
    }
}
