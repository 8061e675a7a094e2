// Parity with the Python `tokenizers` library / transformers on the committed corpus
// (Tests/Fixtures/tokenizer-parity/corpus.json, written by make_tokenizer_goldens.py). Every
// string must match exactly: ids with and without special tokens, the pre-tokenizer split,
// decoded text with and without special tokens, and the GAR demo decode.
import Foundation
import Testing
@testable import Tokenizers

struct CorpusFile: Decodable {
    struct Case: Decodable {
        let text: String
        let split: [Int]
        let ids: [Int]
        let ids_special: [Int]
        let decoded: String
        let decoded_skip: String
        let gar: String
    }
    let pattern: String
    let cases: [Case]
}

@Suite struct TokenizerParityTests {
    let tokenizer = Fixtures.tokenizer

    @Test func corpusHasAtLeast2000Strings() throws {
        let corpus = try Fixtures.decode(CorpusFile.self, "corpus.json")
        #expect(corpus.cases.count >= 2000)
        #expect(corpus.pattern == TokenizerSpec.llama3Pattern)
    }

    @Test func preTokenizerSplitMatchesLibrary() throws {
        let corpus = try Fixtures.decode(CorpusFile.self, "corpus.json")
        var failures = 0
        for c in corpus.cases {
            let lengths = tokenizer.preTokenize(c.text).map { $0.unicodeScalars.count }
            if lengths != c.split {
                failures += 1
                if failures <= 10 {
                    Issue.record("split \(show(c.text)): got \(tokenizer.preTokenize(c.text).map(show)) want lengths \(c.split)")
                }
            }
        }
        #expect(failures == 0, "\(failures) of \(corpus.cases.count) strings split differently")
    }

    @Test func encodeMatchesLibrary() throws {
        let corpus = try Fixtures.decode(CorpusFile.self, "corpus.json")
        var failures = 0
        for c in corpus.cases {
            let ids = tokenizer.encode(c.text, addSpecialTokens: false)
            let idsSpecial = tokenizer.encode(c.text, addSpecialTokens: true)
            if ids != c.ids || idsSpecial != c.ids_special {
                failures += 1
                if failures <= 10 {
                    Issue.record("encode \(show(c.text)): got \(ids) want \(c.ids); with specials got \(idsSpecial.prefix(8))… want \(c.ids_special.prefix(8))…")
                }
            }
        }
        #expect(failures == 0, "\(failures) of \(corpus.cases.count) strings encode differently")
    }

    @Test func decodeMatchesLibrary() throws {
        let corpus = try Fixtures.decode(CorpusFile.self, "corpus.json")
        let bos = try #require(tokenizer.specialTokens["bos_token"])
        var failures = 0
        for c in corpus.cases {
            let raw = tokenizer.decode(c.ids_special, skipSpecialTokens: false, cleanUp: false)
            let decoded = tokenizer.decode(c.ids_special, skipSpecialTokens: false)
            let skipped = tokenizer.decode(c.ids_special, skipSpecialTokens: true)
            let gar = tokenizer.garDecode(c.ids_special)
            // The generator asserted that the library's raw decode round-trips to BOS + text.
            if raw != bos + c.text || decoded != c.decoded || skipped != c.decoded_skip || gar != c.gar {
                failures += 1
                if failures <= 10 {
                    Issue.record("decode \(show(c.text)): raw \(show(raw)), decoded \(show(decoded)) want \(show(c.decoded)), skip \(show(skipped)) want \(show(c.decoded_skip)), gar \(show(gar)) want \(show(c.gar))")
                }
            }
        }
        #expect(failures == 0, "\(failures) of \(corpus.cases.count) strings decode differently")
    }
}
