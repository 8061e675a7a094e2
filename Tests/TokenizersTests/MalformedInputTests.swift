// Bad tokenizer files → one clear error naming the file and the field; never a crash.
import Foundation
import Testing
@testable import Tokenizers

@Suite struct MalformedInputTests {
    /// Applies `edit` to the fixture tokenizer.json, loads, and returns the error description.
    func loadError(_ edit: (inout [String: Any]) -> Void, files: [String: String] = [:]) throws -> String {
        var json = try Fixtures.tokenizerJSON()
        edit(&json)
        let dir = try Fixtures.makeDirectory(tokenizerJSON: json, files: files)
        defer { Fixtures.remove(dir) }
        do {
            _ = try Tokenizer.load(directory: dir)
            return "no error"
        } catch let error as TokenizerError {
            return error.description
        }
    }

    func editModel(_ json: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var model = json["model"] as! [String: Any]
        edit(&model)
        json["model"] = model
    }

    func editMerge(_ index: Int, _ value: Any) -> (inout [String: Any]) -> Void {
        { json in self.editModel(&json) { m in var merges = m["merges"] as! [Any]; merges[index] = value; m["merges"] = merges } }
    }

    @Test func mergeWithOneToken() throws {
        let e = try loadError(editMerge(12, ["h"]))
        #expect(e.hasSuffix("tokenizer.json: model.merges[12]: expected 2 tokens, found 1 item(s)"), "\(e)")
    }

    @Test func mergeStringWithThreeTokens() throws {
        let e = try loadError(editMerge(3, "a b c"))
        #expect(e.hasSuffix("tokenizer.json: model.merges[3]: expected 2 tokens separated by one space, found \"a b c\""), "\(e)")
    }

    @Test func mergeOfUnknownToken() throws {
        let e = try loadError(editMerge(5, ["zzzz", "e"]))
        #expect(e.hasSuffix("tokenizer.json: model.merges[5]: token \"zzzz\" is not in model.vocab"), "\(e)")
    }

    @Test func mergeWhoseResultIsNotInVocab() throws {
        let e = try loadError(editMerge(0, ["q", "q"]))
        #expect(e.hasSuffix("tokenizer.json: model.merges[0]: merged token \"qq\" is not in model.vocab"), "\(e)")
    }

    @Test func mergeOfWrongType() throws {
        let e = try loadError(editMerge(7, 42))
        #expect(e.contains("tokenizer.json: model.merges[7]: expected 2 tokens"), "\(e)")
    }

    @Test func unknownModelType() throws {
        let e = try loadError { json in self.editModel(&json) { $0["type"] = "WordPiece" } }
        #expect(e.hasSuffix("tokenizer.json: model.type: unsupported model \"WordPiece\" (supported: BPE)"), "\(e)")
    }

    @Test func missingVocab() throws {
        let e = try loadError { json in self.editModel(&json) { $0["vocab"] = nil } }
        #expect(e.hasSuffix("tokenizer.json: model.vocab: expected an object, found nothing (field missing)"), "\(e)")
    }

    @Test func vocabIDNotAnInteger() throws {
        let e = try loadError { json in self.editModel(&json) { m in var v = m["vocab"] as! [String: Any]; v["Ġthe"] = "7"; m["vocab"] = v } }
        #expect(e.hasSuffix("tokenizer.json: model.vocab[\"Ġthe\"]: expected an integer, found a string"), "\(e)")
    }

    @Test func duplicateVocabID() throws {
        let e = try loadError { json in self.editModel(&json) { m in var v = m["vocab"] as! [String: Any]; v["zz_new"] = 5; m["vocab"] = v } }
        #expect(e.contains("tokenizer.json: model.vocab["), "\(e)")
        #expect(e.contains("id 5 is also used by"), "\(e)")
    }

    @Test func hugeVocabID() throws {
        let e = try loadError { json in self.editModel(&json) { m in var v = m["vocab"] as! [String: Any]; v["zz_new"] = 2_000_000_000; m["vocab"] = v } }
        #expect(e.contains("model.vocab[\"zz_new\"]: id 2000000000 out of range"), "\(e)")
    }

    @Test func byteFallbackIsUnsupported() throws {
        let e = try loadError { json in self.editModel(&json) { $0["byte_fallback"] = true } }
        #expect(e.contains("tokenizer.json: model.byte_fallback: unsupported true"), "\(e)")
    }

    @Test func normalizerIsUnsupported() throws {
        let e = try loadError { $0["normalizer"] = ["type": "NFC"] }
        #expect(e.hasSuffix("tokenizer.json: normalizer: unsupported normalizer \"NFC\" (supported: null (no normalizer, as Llama-3))"), "\(e)")
    }

    @Test func gpt2PreTokenizerIsUnsupported() throws {
        let e = try loadError { $0["pre_tokenizer"] = ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true] }
        #expect(e.contains("tokenizer.json: pre_tokenizer.type: unsupported pre-tokenizer \"ByteLevel\" (supported: Sequence[Split(Llama-3 regex"), "\(e)")
    }

    @Test func otherRegexIsUnsupported() throws {
        let e = try loadError { json in
            var pre = json["pre_tokenizer"] as! [String: Any]
            var steps = pre["pretokenizers"] as! [[String: Any]]
            steps[0]["pattern"] = ["Regex": "\\p{N}|\\s+"]
            pre["pretokenizers"] = steps
            json["pre_tokenizer"] = pre
        }
        #expect(e.contains("tokenizer.json: pre_tokenizer.pretokenizers[0].pattern.Regex: unsupported regex"), "\(e)")
    }

    @Test func otherDecoderIsUnsupported() throws {
        let e = try loadError { $0["decoder"] = ["type": "Metaspace"] }
        #expect(e.hasSuffix("tokenizer.json: decoder: unsupported decoder \"Metaspace\" (supported: ByteLevel)"), "\(e)")
    }

    @Test func unsupportedPostProcessor() throws {
        let e = try loadError { $0["post_processor"] = ["type": "RobertaProcessing"] }
        #expect(e.contains("tokenizer.json: post_processor.type: unsupported \"RobertaProcessing\""), "\(e)")
    }

    @Test func addedTokenWithWrongID() throws {
        let e = try loadError { json in
            var added = json["added_tokens"] as! [[String: Any]]
            added[3]["id"] = 128_003
            json["added_tokens"] = added
        }
        #expect(e.contains("tokenizer.json: added_tokens[3].id: id 128003 for \"<|video|>\", but the tokenizers library assigns 1203"), "\(e)")
    }

    @Test func addedTokenWithoutContent() throws {
        let e = try loadError { json in
            var added = json["added_tokens"] as! [[String: Any]]
            added[0]["content"] = nil
            json["added_tokens"] = added
        }
        #expect(e.hasSuffix("tokenizer.json: added_tokens[0].content: expected a string, found nothing (field missing)"), "\(e)")
    }

    @Test func wrongVersion() throws {
        let e = try loadError { $0["version"] = "2.0" }
        #expect(e.hasSuffix("tokenizer.json: version: unsupported \"2.0\" (supported: \"1.0\")"), "\(e)")
    }

    @Test func invalidJSON() throws {
        let e = try loadError({ _ in }, files: ["tokenizer.json": "{\"model\": {\"vocab\": "])
        #expect(e.hasSuffix("tokenizer.json: invalid JSON at byte 20: unexpected end of input"), "\(e)")
    }

    @Test func missingTokenizerJSON() throws {
        let dir = try Fixtures.makeDirectory(tokenizerJSON: nil)
        defer { Fixtures.remove(dir) }
        #expect(throws: TokenizerError.fileMissing(path: dir.appendingPathComponent("tokenizer.json").path)) {
            try Tokenizer.load(directory: dir)
        }
    }

    @Test(arguments: [
        ("{\"bos_token\": 5}", "tokenizer_config.json: bos_token: expected a token string or an object with \"content\""),
        ("{\"bos_token\": \"<|nope|>\"}", "tokenizer_config.json: bos_token: token \"<|nope|>\" is not an added token of tokenizer.json (transformers would add it as a special token; not supported)"),
        ("{\"additional_special_tokens\": [\"<|image|>\", \"<extra>\"]}", "tokenizer_config.json: additional_special_tokens[1]: token \"<extra>\" is not an added token of tokenizer.json (transformers would add it as a special token; not supported)"),
        ("{\"bos_token\": {\"content\": 7}}", "tokenizer_config.json: bos_token.content: expected a string, found a number"),
        ("{\"clean_up_tokenization_spaces\": \"yes\"}", "tokenizer_config.json: clean_up_tokenization_spaces: expected true or false, found a string"),
        ("{\"chat_template\": 3}", "tokenizer_config.json: chat_template: expected an array, found a number"),
        ("[1, 2]", "tokenizer_config.json: expected an object, found an array"),
        ("{\"bos_token\": ", "tokenizer_config.json: invalid JSON at byte 14: unexpected end of input"),
    ])
    func badTokenizerConfig(config: String, message: String) throws {
        let e = try loadError({ _ in }, files: ["tokenizer_config.json": config, "special_tokens_map.json": "{}"])
        #expect(e.hasSuffix(message), "\(e)")
    }

    @Test func configAddedTokensMustAgreeWithTokenizerJSON() throws {
        let data = try Data(contentsOf: Fixtures.tokenizerDirectory.appendingPathComponent("tokenizer_config.json"))
        var config = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        var decoder = config["added_tokens_decoder"] as! [String: Any]
        var entry = decoder["1456"] as! [String: Any]
        entry["special"] = false  // <Prompt0> made non-special in the config only
        decoder["1456"] = entry
        config["added_tokens_decoder"] = decoder
        let text = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        let e = try loadError({ _ in }, files: ["tokenizer_config.json": text])
        #expect(e.contains("tokenizer_config.json: added_tokens_decoder[\"1456\"]: \"<Prompt0>\" special false differs from tokenizer.json added_tokens"), "\(e)")
    }

    @Test func roleTokenThatIsNotAnAddedTokenIsRefused() throws {
        // "The" is a model vocabulary token; transformers would turn it into a special added token.
        let e = try loadError({ _ in }, files: ["special_tokens_map.json": "{\"pad_token\": \"The\"}"])
        #expect(e.contains("special_tokens_map.json: pad_token: token \"The\" is not an added token of tokenizer.json"), "\(e)")
    }

    @Test func cleanUpDefaultsToFalseWhenAbsent() throws {
        // transformers 4.56: clean_up_tokenization_spaces defaults to False.
        let dir = try Fixtures.makeDirectory(tokenizerJSON: try Fixtures.tokenizerJSON(),
                                             files: ["tokenizer_config.json": "{\"bos_token\": \"<|begin_of_text|>\"}",
                                                     "special_tokens_map.json": "{}"])
        defer { Fixtures.remove(dir) }
        let t = try Tokenizer.load(directory: dir)
        #expect(t.cleanUpTokenizationSpaces == false)
        #expect(t.decode(t.encode("a .", addSpecialTokens: false)) == "a .")
        #expect(Fixtures.tokenizer.decode(Fixtures.tokenizer.encode("a .", addSpecialTokens: false)) == "a.")
    }

    @Test func specialTokensMapOverridesConfig() throws {
        let dir = try Fixtures.makeDirectory(tokenizerJSON: try Fixtures.tokenizerJSON(),
                                             files: ["special_tokens_map.json": "{\"eos_token\": {\"content\": \"<|end_of_text|>\"}}"])
        defer { Fixtures.remove(dir) }
        let t = try Tokenizer.load(directory: dir)
        #expect(t.eosID == t.id(of: "<|end_of_text|>"))
        #expect(t.bosID == t.id(of: "<|begin_of_text|>"))
    }

    /// Random structural damage to a small tokenizer.json: every load either succeeds or throws a
    /// TokenizerError — no crash, no other error type.
    @Test func randomDamageNeverCrashes() throws {
        var rng = SplitMix64(seed: 7)
        let base = handWrittenTokenizerJSON(vocab: BPEModelTests.vocab, merges: BPEModelTests.merges, ignoreMerges: true)
        let replacements: [Any] = [NSNull(), 0, -1, 1.5, "", "x", [Any](), ["a"], ["a", "b", "c"], [String: Any](), true, 1 << 40]
        var thrown = 0
        for _ in 0..<300 {
            var json = base
            let paths: [[String]] = [["model"], ["model", "vocab"], ["model", "merges"], ["model", "type"], ["model", "ignore_merges"],
                                     ["model", "unk_token"], ["pre_tokenizer"], ["decoder"], ["post_processor"], ["added_tokens"],
                                     ["normalizer"], ["version"], ["model", "dropout"], ["model", "fuse_unk"]]
            let path = paths[Int(rng.next() % UInt64(paths.count))]
            let value = replacements[Int(rng.next() % UInt64(replacements.count))]
            if path.count == 1 {
                json[path[0]] = value
            } else {
                var inner = json[path[0]] as! [String: Any]
                inner[path[1]] = value
                json[path[0]] = inner
            }
            do {
                let t = try loadTokenizer(json: json)
                _ = t.encode("abc abc <unk> x", addSpecialTokens: true)
            } catch is TokenizerError {
                thrown += 1
            }
        }
        #expect(thrown > 100)
    }
}

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
