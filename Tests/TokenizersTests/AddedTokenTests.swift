// Added tokens with lstrip / rstrip / single_word / normalized / special flags, against ids the
// `tokenizers` library produced (Tests/Fixtures/tokenizer-parity/added_tokens.json). The extra
// tokens are appended to the fixture tokenizer.json here, as the generator added them there.
import Foundation
import Testing
@testable import Tokenizers

struct AddedTokensFile: Decodable {
    struct Token: Decodable {
        let id: Int
        let content: String
        let single_word: Bool
        let lstrip: Bool
        let rstrip: Bool
        let normalized: Bool
        let special: Bool
    }
    struct Case: Decodable {
        let text: String
        let ids: [Int]
        let ids_special: [Int]
        let decoded: String
        let decoded_skip: String
    }
    let added_tokens: [Token]
    let cases: [Case]
}

@Suite struct AddedTokenTests {
    static func tokenizerWithExtraTokens() throws -> (Tokenizer, AddedTokensFile) {
        let file = try Fixtures.decode(AddedTokensFile.self, "added_tokens.json")
        var json = try Fixtures.tokenizerJSON()
        var added = json["added_tokens"] as! [[String: Any]]
        for t in file.added_tokens {
            added.append(["id": t.id, "content": t.content, "single_word": t.single_word, "lstrip": t.lstrip,
                          "rstrip": t.rstrip, "normalized": t.normalized, "special": t.special])
        }
        json["added_tokens"] = added
        let dir = try Fixtures.makeDirectory(tokenizerJSON: json)
        defer { Fixtures.remove(dir) }
        return (try Tokenizer.load(directory: dir), file)
    }

    @Test func flagsMatchLibrary() throws {
        let (tokenizer, file) = try Self.tokenizerWithExtraTokens()
        #expect(file.cases.count >= 40)
        for c in file.cases {
            #expect(tokenizer.encode(c.text, addSpecialTokens: false) == c.ids, "\(show(c.text))")
            #expect(tokenizer.encode(c.text, addSpecialTokens: true) == c.ids_special, "\(show(c.text))")
            #expect(tokenizer.decode(c.ids_special, skipSpecialTokens: false, cleanUp: false) == c.decoded, "\(show(c.text))")
            #expect(tokenizer.decode(c.ids_special, skipSpecialTokens: true, cleanUp: false) == c.decoded_skip, "\(show(c.text))")
        }
    }

    @Test func addedTokenAlreadyInVocabularyKeepsItsID() throws {
        // "ab" is a model vocabulary entry of the fixture, so the library gives the added token its id.
        let (tokenizer, file) = try Self.tokenizerWithExtraTokens()
        let ab = try #require(file.added_tokens.first { $0.content == "ab" })
        #expect(ab.id < 1200)
        #expect(tokenizer.id(of: "ab") == ab.id)
    }
}
