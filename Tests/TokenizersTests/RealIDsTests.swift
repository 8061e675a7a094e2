// Real GAR ids are 128000+ (GAR-SPEC §5.3). The fixture is renumbered here into that layout: the model
// vocabulary is padded with unreachable entries up to 128,000 tokens, so the library — and we — give
// the 256 PLM special tokens ids 128000...128255 and GAR's six tokens 128256...128261. Every corpus
// encoding must then be the fixture's with each id >= 1200 shifted by 126,800, and the named tokens
// must land on the ids the spec lists — with nothing hard-coded in the tokenizer.
import Foundation
import Testing
@testable import Tokenizers

@Suite(.serialized) struct RealIDsTests {
    static let shift = 128_000 - 1200

    /// Built once per test process (a 128,000-entry tokenizer.json takes a moment to write and load).
    static let shared = Result { try makeRenumbered() }

    static func renumbered() throws -> Tokenizer { try shared.get() }

    static func makeRenumbered() throws -> Tokenizer {
        var json = try Fixtures.tokenizerJSON()
        var model = json["model"] as! [String: Any]
        var vocab = model["vocab"] as! [String: Int]
        precondition(vocab.count == 1200)
        // Padding tokens use CJK characters, which are not in the byte-level alphabet, so encoding
        // can never produce them.
        for id in 1200..<128_000 { vocab["\u{4E00}pad\(id)"] = id }
        model["vocab"] = vocab
        json["model"] = model
        var added = json["added_tokens"] as! [[String: Any]]
        for k in added.indices { added[k]["id"] = (added[k]["id"] as! Int) + shift }
        json["added_tokens"] = added
        // The BOS template's ids are stored in the file too.
        var post = json["post_processor"] as! [String: Any]
        var processors = post["processors"] as! [[String: Any]]
        var template = processors[1]
        var specials = template["special_tokens"] as! [String: [String: Any]]
        for (name, var entry) in specials {
            entry["ids"] = (entry["ids"] as! [Int]).map { $0 + shift }
            specials[name] = entry
        }
        template["special_tokens"] = specials
        processors[1] = template
        post["processors"] = processors
        json["post_processor"] = post
        // tokenizer_config.json lists the added tokens by id as well.
        let configData = try Data(contentsOf: Fixtures.tokenizerDirectory.appendingPathComponent("tokenizer_config.json"))
        var config = try JSONSerialization.jsonObject(with: configData) as! [String: Any]
        let decoder = config["added_tokens_decoder"] as! [String: Any]
        config["added_tokens_decoder"] = Dictionary(uniqueKeysWithValues: decoder.map { (String(Int($0.key)! + shift), $0.value) })
        let configText = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        return try loadTokenizer(json: json, files: ["tokenizer_config.json": configText],
                                 copy: ["special_tokens_map.json", "chat_template.jinja"])
    }

    @Test func namedTokensHaveTheRealIDs() throws {
        let t = try Self.renumbered()
        #expect(t.bosID == 128_000)
        #expect(t.padID == 128_001)
        #expect(t.imageTokenID == 128_002)
        #expect(t.videoTokenID == 128_003)
        #expect(t.eosID == 128_009)
        #expect(t.id(of: "<|reserved_special_token_2|>") == 128_004)
        #expect(t.id(of: "<|reserved_special_token_3|>") == 128_005)
        #expect(t.id(of: "<|start_header_id|>") == 128_006)
        #expect(t.id(of: "<|end_header_id|>") == 128_007)
        #expect(t.id(of: "<|reserved_special_token_250|>") == 128_255)
        #expect(t.id(of: "<Prompt0>") == 128_256)
        #expect(t.id(of: "<Prompt4>") == 128_260)
        #expect(t.id(of: "<NO_Prompt>") == 128_261)
        #expect(t.vocabSize == 128_262)
        #expect(t.specialTokenIDs.count == 262)
    }

    @Test func corpusEncodesWithShiftedIDs() throws {
        let t = try Self.renumbered()
        let corpus = try Fixtures.decode(CorpusFile.self, "corpus.json")
        func shifted(_ ids: [Int]) -> [Int] { ids.map { $0 >= 1200 ? $0 + Self.shift : $0 } }
        var failures = 0
        for c in corpus.cases {
            let ok = t.encode(c.text, addSpecialTokens: false) == shifted(c.ids)
                && t.encode(c.text, addSpecialTokens: true) == shifted(c.ids_special)
                && t.decode(shifted(c.ids_special), skipSpecialTokens: true) == c.decoded_skip
                && t.garDecode(shifted(c.ids_special)) == c.gar
            if !ok { failures += 1 }
        }
        #expect(failures == 0, "\(failures) of \(corpus.cases.count) corpus strings differ after renumbering")
        // The eval path's prompt starts [128000, 128000, 128006, ...].
        let template = try ChatTemplate.load(directory: Fixtures.tokenizerDirectory, tokenizer: t)
        let prompt = try template.render(messages: [.user([.image, .text("hi")])], addGenerationPrompt: true)
        #expect(Array(t.encode(prompt).prefix(3)) == [128_000, 128_000, 128_006])
    }
}
