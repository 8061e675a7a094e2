// `gar tokenize` / `gar bench tokenizer` job logic on the fixture tokenizer.
import Foundation
import Testing
@testable import Pipeline

@Suite struct TokenizeJobTests {
    static let tokenizerDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/tokenizer")

    @Test func tokenizeReportsIdsTokensAndDecodedText() throws {
        let r = try TokenizeJob.run(modelDirectory: Self.tokenizerDirectory, text: " Hello <Prompt0> .", addSpecialTokens: true)
        #expect(r.tokens.first == "<|begin_of_text|>")
        #expect(r.tokens.contains("<Prompt0>"))
        #expect(r.ids.count == r.tokens.count)
        #expect(r.decoded == "<|begin_of_text|> Hello <Prompt0>.")  // clean_up: " ." → "."
        // Skipping <Prompt0> leaves " Hello  ." → cleanup "Hello ." after strip (as transformers + str.strip()).
        #expect(r.garDecoded == "Hello .")
        let json = try TokenizeJob.json(r)
        #expect(json.hasPrefix("{\"decoded\":"))
        #expect(json.contains("\"gar_decoded\":\"Hello .\""))
        let noSpecial = try TokenizeJob.run(modelDirectory: Self.tokenizerDirectory, text: "Hello", addSpecialTokens: false)
        let withSpecial = try TokenizeJob.run(modelDirectory: Self.tokenizerDirectory, text: "Hello", addSpecialTokens: true)
        #expect(withSpecial.ids == [withSpecial.ids[0]] + noSpecial.ids)
        #expect(noSpecial.tokens.first != "<|begin_of_text|>")
    }

    @Test func listingEscapesControlCharacters() throws {
        let r = try TokenizeJob.run(modelDirectory: Self.tokenizerDirectory, text: "a\nb\t", addSpecialTokens: false)
        let listing = TokenizeJob.listing(r)
        #expect(listing.split(separator: "\n").count == 4)
        #expect(listing.contains("decoded: a\\nb\\t"))
    }

    @Test func benchRunsWithoutPythonAndCountsConsistently() throws {
        let text = TokenizerBench.syntheticText(bytes: 20_000)
        #expect(text == TokenizerBench.syntheticText(bytes: 20_000))  // deterministic
        let r = try TokenizerBench.run(modelDirectory: Self.tokenizerDirectory, text: text, python: nil, repetitions: 1)
        #expect(r.rows.count == 3)
        #expect(r.textBytes + r.lines - 1 == text.utf8.count)  // lines split at LF, LFs not counted
        #expect(r.tokens > 1000)
        #expect(r.python == nil)
        let table = TokenizerBench.table(r, machine: "test")
        #expect(table.contains("gar encode (Swift)"))
        #expect(table.contains("Python reference not measured"))
    }

    @Test func benchReportsAMissingPythonClearly() throws {
        let r = try TokenizerBench.run(modelDirectory: Self.tokenizerDirectory, text: "a b c", python: "/nonexistent/python",
                                       repetitions: 1)
        #expect(r.python == nil)
        #expect(r.pythonNote?.contains("not measured") == true)
    }
}
