// BPE model details on hand-written tokenizer.json files, and the two merges formats on the fixture.
// Expected ids in the hand-written cases were produced with the Python `tokenizers` 0.22.2 library on
// the same JSON (Tokenizer.from_str(...).encode(text).ids).
import Foundation
import Testing
@testable import Tokenizers

/// A minimal tokenizer.json with the Llama-3 pipeline around a hand-written BPE model.
func handWrittenTokenizerJSON(vocab: [String: Int], merges: [[String]], ignoreMerges: Bool,
                              unk: String? = nil, fuseUnk: Bool = false) -> [String: Any] {
    [
        "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": [Any](), "normalizer": NSNull(),
        "pre_tokenizer": ["type": "Sequence", "pretokenizers": [
            ["type": "Split", "pattern": ["Regex": TokenizerSpec.llama3Pattern], "behavior": "Isolated", "invert": false],
            ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false],
        ]] as [String: Any],
        "post_processor": NSNull(),
        "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true] as [String: Any],
        "model": ["type": "BPE", "dropout": NSNull(), "unk_token": unk.map { $0 as Any } ?? NSNull(),
                  "continuing_subword_prefix": NSNull(), "end_of_word_suffix": NSNull(), "fuse_unk": fuseUnk,
                  "byte_fallback": false, "ignore_merges": ignoreMerges, "vocab": vocab, "merges": merges] as [String: Any],
    ]
}

func loadTokenizer(json: [String: Any], files: [String: String] = [:], copy: [String] = []) throws -> Tokenizer {
    let dir = try Fixtures.makeDirectory(tokenizerJSON: json, files: files, copy: copy)
    defer { Fixtures.remove(dir) }
    return try Tokenizer.load(directory: dir)
}

@Suite struct BPEModelTests {
    // "abc" is a vocabulary entry that the merges alone never build (b+c has the lower rank, and
    // there is no merge a+bc), so ignore_merges decides the result.
    static let vocab = ["a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5, "Ġ": 6, "<unk>": 7]
    static let merges = [["b", "c"], ["a", "b"]]

    @Test(arguments: [
        (true, "abc", [5]), (false, "abc", [0, 4]),
        (true, "abc abc", [5, 6, 0, 4]), (false, "abc abc", [0, 4, 6, 0, 4]),
        (true, "ab", [3]), (true, "bc", [4]), (true, "cab", [2, 3]), (true, "abcabc", [0, 4, 0, 4]),
        // Bytes with no vocabulary entry and no unk_token are dropped; the neighbours then merge.
        (true, "xyz", []), (true, "axxb", [3]),
    ] as [(Bool, String, [Int])])
    func ignoreMerges(ignore: Bool, text: String, expected: [Int]) throws {
        let t = try loadTokenizer(json: handWrittenTokenizerJSON(vocab: Self.vocab, merges: Self.merges, ignoreMerges: ignore))
        #expect(t.encode(text, addSpecialTokens: false) == expected)
    }

    @Test(arguments: [
        (false, "axxb", [0, 7, 7, 1]), (false, "xyz", [7, 7, 7]), (false, "abc x", [5, 6, 7]), (false, "<unk>", [7, 7, 7, 7, 7]),
        (true, "axxb", [0, 7, 1]), (true, "xyz", [7]), (true, "abc x", [5, 6, 7]), (true, "<unk>", [7, 7]),
    ] as [(Bool, String, [Int])])
    func unknownBytes(fuse: Bool, text: String, expected: [Int]) throws {
        let json = handWrittenTokenizerJSON(vocab: Self.vocab, merges: Self.merges, ignoreMerges: true, unk: "<unk>", fuseUnk: fuse)
        let t = try loadTokenizer(json: json)
        #expect(t.encode(text, addSpecialTokens: false) == expected)
    }

    /// The fixture stores merges as pairs; the same tokenizer with "a b" strings must encode alike.
    @Test func mergesStringAndPairFormsAgree() throws {
        var json = try Fixtures.tokenizerJSON()
        var model = json["model"] as! [String: Any]
        let pairs = model["merges"] as! [[String]]
        #expect(pairs.count > 900)
        model["merges"] = ["#version: 0.2"] + pairs.map { "\($0[0]) \($0[1])" }
        json["model"] = model
        let stringForm = try loadTokenizer(json: json, copy: ["tokenizer_config.json", "special_tokens_map.json"])
        let pairForm = Fixtures.tokenizer
        let corpus = try Fixtures.decode(CorpusFile.self, "corpus.json")
        for c in corpus.cases {
            #expect(stringForm.encode(c.text, addSpecialTokens: false) == c.ids, "\(show(c.text))")
        }
        #expect(stringForm.encode("The bright frog jumps", addSpecialTokens: true)
                == pairForm.encode("The bright frog jumps", addSpecialTokens: true))
    }
}
