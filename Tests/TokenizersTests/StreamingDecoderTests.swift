// Streaming decode: the pieces concatenate to the one-shot decode (so no piece ever carried a broken
// character or a premature U+FFFD), for every corpus encoding and every random id sequence.
import Foundation
import Testing
@testable import Tokenizers

@Suite struct StreamingDecoderTests {
    let tokenizer = Fixtures.tokenizer

    static let modes: [(skip: Bool, cleanUp: Bool, strip: Bool)] = [
        (false, false, false), (true, false, false), (true, true, false), (true, true, true), (false, true, true),
    ]

    func oneShot(_ ids: [Int], _ mode: (skip: Bool, cleanUp: Bool, strip: Bool)) -> String {
        let text = tokenizer.decode(ids, skipSpecialTokens: mode.skip, cleanUp: mode.cleanUp)
        return mode.strip ? TextCleanup.pythonStrip(text) : text
    }

    func streamed(_ ids: [Int], _ mode: (skip: Bool, cleanUp: Bool, strip: Bool)) -> (String, [String]) {
        var decoder = StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: mode.skip, cleanUp: mode.cleanUp, strip: mode.strip)
        var pieces = ids.map { decoder.push($0) }
        pieces.append(decoder.finish())
        return (pieces.joined(), pieces)
    }

    @Test func concatenationEqualsOneShotOnCorpus() throws {
        let corpus = try Fixtures.decode(CorpusFile.self, "corpus.json")
        for mode in Self.modes {
            var failures = 0
            for c in corpus.cases {
                let (all, _) = streamed(c.ids_special, mode)
                if all != oneShot(c.ids_special, mode) {
                    failures += 1
                    if failures <= 5 { Issue.record("mode \(mode) \(show(c.text)): got \(show(all))") }
                }
            }
            #expect(failures == 0, "mode \(mode): \(failures) mismatches")
        }
    }

    @Test func concatenationEqualsOneShotOnBrokenUTF8() throws {
        let file = try Fixtures.decode(DecodeFile.self, "decode.json")
        for mode in Self.modes {
            for c in file.cases {
                let (all, _) = streamed(c.ids, mode)
                #expect(all == oneShot(c.ids, mode), "mode \(mode) ids \(c.ids)")
            }
        }
        // The GAR mode reproduces the library's GAR decode golden.
        for c in file.cases {
            #expect(streamed(c.ids, (true, true, true)).0 == c.gar)
        }
    }

    @Test func holdsBackIncompleteCharactersUntilComplete() throws {
        // "😀" is 4 bytes (F0 9F 98 80); byte-level single-byte tokens feed it one byte at a time.
        let byteIDs = Array("a😀".utf8).map { tokenizer.id(of: ByteLevel.string(ofBytes: [$0]))! }
        var decoder = StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: true, cleanUp: false, strip: false)
        let pieces = byteIDs.map { decoder.push($0) }
        #expect(pieces == ["a", "", "", "", "😀"])
        // A truncated character is flushed as U+FFFD only at the end.
        var cut = StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: true, cleanUp: false, strip: false)
        #expect(byteIDs.prefix(3).map { cut.push($0) } == ["a", "", ""])
        #expect(cut.finish() == "\u{FFFD}")
    }

    @Test func cleanupAndStripHoldBackOnlyWhatCanChange() throws {
        var decoder = StreamingDecoder(tokenizer: tokenizer)  // GAR mode
        var out: [String] = []
        for piece in ["  Hello", " world", " ", ".", " It", " '", "s", " fine", "\n", "\n"] {
            out.append(decoder.push(tokenizer.encode(piece, addSpecialTokens: false)))
        }
        out.append(decoder.finish())
        #expect(out.joined() == "Hello world. It's fine")
        #expect(out.first == "Hello")  // leading spaces dropped, text emitted at once
    }
}
