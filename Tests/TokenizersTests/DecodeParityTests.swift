// Decoding arbitrary id sequences (Tests/Fixtures/tokenizer-parity/decode.json): ids that cut
// multi-byte characters (lossy UTF-8 → U+FFFD exactly where the library puts it), special tokens
// kept or skipped, out-of-range ids (skipped, as the library does), cleanup and the GAR rule.
import Foundation
import Testing
@testable import Tokenizers

struct DecodeFile: Decodable {
    struct Case: Decodable {
        let ids: [Int]
        let raw: String
        let raw_skip: String
        let decoded: String
        let decoded_skip: String
        let gar: String
    }
    let cases: [Case]
}

@Suite struct DecodeParityTests {
    let tokenizer = Fixtures.tokenizer

    @Test func decodeArbitraryIDsMatchesLibrary() throws {
        let file = try Fixtures.decode(DecodeFile.self, "decode.json")
        #expect(file.cases.count > 300)
        var failures = 0
        for c in file.cases {
            let got = (tokenizer.decode(c.ids, skipSpecialTokens: false, cleanUp: false),
                       tokenizer.decode(c.ids, skipSpecialTokens: true, cleanUp: false),
                       tokenizer.decode(c.ids, skipSpecialTokens: false, cleanUp: true),
                       tokenizer.decode(c.ids, skipSpecialTokens: true, cleanUp: true),
                       tokenizer.garDecode(c.ids))
            if got != (c.raw, c.raw_skip, c.decoded, c.decoded_skip, c.gar) {
                failures += 1
                if failures <= 10 {
                    Issue.record("decode \(c.ids): got \(show(got.0)) / \(show(got.3)) / \(show(got.4)), want \(show(c.raw)) / \(show(c.decoded_skip)) / \(show(c.gar))")
                }
            }
        }
        #expect(failures == 0, "\(failures) of \(file.cases.count) id sequences decode differently")
    }

    @Test func cleanupFollowsPythonReplaceOrder() {
        // " ' " is replaced before " 's", so "x  ' s" → "x 's" → "x's" (both passes apply).
        #expect(TextCleanup.cleanUpTokenizationSpaces("x  ' s") == "x's")
        #expect(TextCleanup.cleanUpTokenizationSpaces("a . b , c ! d ? e") == "a. b, c! d? e")
        #expect(TextCleanup.cleanUpTokenizationSpaces("do n't I 'm it 's we 've they 're") == "don't I'm it's we've they're")
        // Code-point semantics: " ." followed by a combining mark is still replaced (Python), although
        // "." + U+0301 is a single Swift Character.
        #expect(TextCleanup.cleanUpTokenizationSpaces("a .\u{301}") == "a.\u{301}")
        // Every non-overlapping occurrence, left to right.
        #expect(TextCleanup.cleanUpTokenizationSpaces(" . .") == "..")
    }

    @Test func pythonStripWhitespaceSet() {
        // str.isspace() includes U+001C...U+001F, U+0085, U+00A0; not U+200B or U+FEFF.
        #expect(TextCleanup.pythonStrip("\u{1C}\u{1F}\u{85}\u{A0}\u{3000} x \u{2028}\u{2029}\u{202F}\t\n") == "x")
        #expect(TextCleanup.pythonStrip("\u{200B}x\u{FEFF}") == "\u{200B}x\u{FEFF}")
        #expect(TextCleanup.pythonStrip(" \n\t ") == "")
    }
}
