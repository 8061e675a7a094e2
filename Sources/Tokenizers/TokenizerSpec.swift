// Parsing and validating tokenizer.json. Only what GAR's Llama-3 tokenizer uses is accepted; any other
// component is rejected with an error that lists what is supported, rather than run approximately.
import Foundation
import JSONCore

struct TokenizerSpec {
    var model: BPEModel
    var modelVocab: [(token: String, id: Int)]
    var addedTokens: [AddedToken]
    var postProcessor: PostProcessor

    /// The Llama-3 pre-tokenizer regex, as written in tokenizer.json.
    static let llama3Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// Upper bound on token ids (tables are indexed by id; real vocabularies are < 300,000).
    static let maxTokenID = 1 << 24

    static let supportedPreTokenizer =
        "Sequence[Split(Llama-3 regex, behavior Isolated, invert false), ByteLevel(add_prefix_space false, use_regex false)]"

    static func load(_ url: URL) throws -> TokenizerSpec {
        try parse(JSONField.load(url))
    }

    static func parse(_ root: JSONField) throws -> TokenizerSpec {
        _ = try root.members()
        if root["version"].exists {
            let v = try root["version"].string()
            guard v == "1.0" else {
                throw TokenizerError.unsupported(file: root.file, field: "version", found: quoted(v), supported: "\"1.0\"")
            }
        }
        try checkNormalizer(root["normalizer"])
        try checkPreTokenizer(root["pre_tokenizer"])
        try checkDecoder(root["decoder"])
        let postProcessor = try PostProcessor.parse(root["post_processor"])
        let (model, vocab, vocabIDs) = try parseModel(root["model"])
        let added = try parseAddedTokens(root["added_tokens"], vocabIDs: vocabIDs, vocabCount: vocab.count)
        return TokenizerSpec(model: model, modelVocab: vocab, addedTokens: added, postProcessor: postProcessor)
    }

    // MARK: - Components that must match Llama-3

    private static func checkNormalizer(_ field: JSONField) throws {
        if field.isNull { return }
        let type = (try? field["type"].string()) ?? "?"
        if type == "Sequence", let list = try? field["normalizers"].array(), list.isEmpty { return }
        throw TokenizerError.unsupported(file: field.file, field: field.path, found: "normalizer \(quoted(type))",
                                         supported: "null (no normalizer, as Llama-3)")
    }

    private static func checkPreTokenizer(_ field: JSONField) throws {
        func reject(_ found: String, at f: JSONField) -> TokenizerError {
            .unsupported(file: f.file, field: f.path, found: found, supported: supportedPreTokenizer)
        }
        guard !field.isNull else { throw reject("null pre-tokenizer", at: field) }
        let type = try field["type"].string()
        guard type == "Sequence" else { throw reject("pre-tokenizer \(quoted(type))", at: field["type"]) }
        let steps = try field["pretokenizers"].array()
        guard steps.count == 2 else { throw reject("a Sequence of \(steps.count) pre-tokenizers", at: field["pretokenizers"]) }

        let split = steps[0]
        let splitType = try split["type"].string()
        guard splitType == "Split" else { throw reject("pre-tokenizer \(quoted(splitType))", at: split["type"]) }
        guard split["pattern"]["Regex"].exists else { throw reject("a String pattern", at: split["pattern"]) }
        let pattern = try split["pattern"]["Regex"].string()
        guard pattern == llama3Pattern else { throw reject("regex \(quoted(pattern, limit: 40))", at: split["pattern"]["Regex"]) }
        let behavior = try split["behavior"].string()
        guard behavior == "Isolated" else { throw reject("behavior \(quoted(behavior))", at: split["behavior"]) }
        guard try split["invert"].bool(default: false) == false else { throw reject("invert true", at: split["invert"]) }

        let byteLevel = steps[1]
        let blType = try byteLevel["type"].string()
        guard blType == "ByteLevel" else { throw reject("pre-tokenizer \(quoted(blType))", at: byteLevel["type"]) }
        guard try byteLevel["add_prefix_space"].bool(default: false) == false else {
            throw reject("add_prefix_space true", at: byteLevel["add_prefix_space"])
        }
        guard try byteLevel["use_regex"].bool(default: true) == false else {
            throw reject("use_regex true (the GPT-2 regex)", at: byteLevel["use_regex"])
        }
    }

    private static func checkDecoder(_ field: JSONField) throws {
        let type = field.isNull ? "null" : try field["type"].string()
        guard type == "ByteLevel" else {
            throw TokenizerError.unsupported(file: field.file, field: field.path, found: "decoder \(quoted(type))",
                                             supported: "ByteLevel")
        }
    }

    // MARK: - BPE model

    private static func parseModel(_ field: JSONField) throws
        -> (BPEModel, [(token: String, id: Int)], ByteStringTable) {
        _ = try field.members()
        let type = try field["type"].string()
        guard type == "BPE" else {
            throw TokenizerError.unsupported(file: field.file, field: field["type"].path, found: "model \(quoted(type))",
                                             supported: "BPE")
        }
        if let dropout = try field["dropout"].optionalDouble(), dropout != 0 {
            throw TokenizerError.unsupported(file: field.file, field: field["dropout"].path, found: "dropout \(dropout)",
                                             supported: "null or 0")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let s = try field[key].optionalString(), !s.isEmpty {
                throw TokenizerError.unsupported(file: field.file, field: field[key].path, found: quoted(s),
                                                 supported: "null (byte-level BPE)")
            }
        }
        if try field["byte_fallback"].bool(default: false) {
            throw TokenizerError.unsupported(file: field.file, field: field["byte_fallback"].path, found: "true",
                                             supported: "false (byte-level BPE needs no byte fallback)")
        }
        let ignoreMerges = try field["ignore_merges"].bool(default: false)
        let fuseUnk = try field["fuse_unk"].bool(default: false)

        // Vocabulary.
        let vocabField = field["vocab"]
        let vocabMembers = try vocabField.members()
        var vocab: [(token: String, id: Int)] = []
        vocab.reserveCapacity(vocabMembers.count)
        var owner = [Int32](repeating: -1, count: 0)
        for (k, member) in vocabMembers.enumerated() {
            let id: Int
            switch member.value {
            case let .integer(n): id = Int(n)
            default: id = try vocabField.child(key: member.key, member.value).int()
            }
            guard id >= 0 && id < maxTokenID else {
                throw vocabField.child(key: member.key, member.value).error("id \(id) out of range 0..<\(maxTokenID)")
            }
            if id >= owner.count { owner += [Int32](repeating: -1, count: max(id + 1 - owner.count, owner.count)) }
            if owner[id] >= 0 {
                throw vocabField.child(key: member.key, member.value)
                    .error("id \(id) is also used by \(quoted(vocabMembers[Int(owner[id])].key))")
            }
            owner[id] = Int32(k)
            vocab.append((member.key, id))
        }
        // Token UTF-8 → id. (Not a [String: Int]: Swift compares strings up to canonical equivalence,
        // the library compares bytes.)
        var byToken = ByteStringTable(minimumCapacity: vocab.count)
        var vocabBytes = ByteStringTable(minimumCapacity: vocab.count)
        var byteIDs = [Int32](repeating: -1, count: 256)
        for (token, id) in vocab {
            guard byToken.insert(Array(token.utf8), Int32(id)) else {
                throw vocabField.error("duplicate token \(quoted(token))")
            }
            if let bytes = ByteLevel.bytes(ofToken: token) {
                vocabBytes.insert(bytes, Int32(id))
                if bytes.count == 1 { byteIDs[Int(bytes[0])] = Int32(id) }
            }
        }

        var unkID: Int32? = nil
        if let unk = try field["unk_token"].optionalString() {
            guard let id = byToken.lookup(unk) else { throw field["unk_token"].error("\(quoted(unk)) is not in model.vocab") }
            unkID = id
        }

        // Merges: "a b" strings (older files) or ["a", "b"] pairs (tokenizers >= 0.20).
        let mergesField = field["merges"]
        let mergeItems = mergesField.isNull ? [] : try mergesField.elements()
        var merges = UInt64Table(minimumCapacity: mergeItems.count)
        var rank: UInt64 = 0
        for (index, value) in mergeItems.enumerated() {
            let a: String, b: String
            switch value {
            case let .string(line):
                if line.hasPrefix("#version") { continue }
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw mergesField.child(index, value).error("expected 2 tokens separated by one space, found \(quoted(line))")
                }
                a = String(parts[0]); b = String(parts[1])
            case let .array(pair):
                guard pair.count == 2, case let .string(x) = pair[0], case let .string(y) = pair[1] else {
                    throw mergesField.child(index, value).error("expected 2 tokens, found \(pair.count) item(s)")
                }
                a = x; b = y
            default:
                throw mergesField.child(index, value).error("expected 2 tokens (\"a b\" or [\"a\", \"b\"])")
            }
            guard let idA = byToken.lookup(a) else { throw mergesField.child(index, value).error("token \(quoted(a)) is not in model.vocab") }
            guard let idB = byToken.lookup(b) else { throw mergesField.child(index, value).error("token \(quoted(b)) is not in model.vocab") }
            guard let merged = byToken.lookup(Array(a.utf8) + Array(b.utf8)) else {
                throw mergesField.child(index, value).error("merged token \(quoted(a + b)) is not in model.vocab")
            }
            let key = UInt64(UInt32(idA)) << 32 | UInt64(UInt32(idB))
            merges.set(key, rank << 32 | UInt64(UInt32(merged)))
            rank += 1
        }

        let model = BPEModel(vocabBytes: vocabBytes, byteIDs: byteIDs, merges: merges, ignoreMerges: ignoreMerges,
                             unkID: unkID, fuseUnk: fuseUnk)
        return (model, vocab, byToken)
    }

    // MARK: - Added tokens

    /// Parses `added_tokens` and checks each id is the one the library would give it: the model's id
    /// when the content is in the model vocabulary, otherwise the next id after the vocabulary, in
    /// file order (tokenizers assigns them this way and only warns about a mismatch — we refuse).
    private static func parseAddedTokens(_ field: JSONField, vocabIDs: ByteStringTable, vocabCount: Int) throws
        -> [AddedToken] {
        if field.isNull { return [] }
        var nextID = vocabCount
        var seen = Set<[UInt8]>()
        var tokens: [AddedToken] = []
        for item in try field.array() {
            let content = try item["content"].string()
            guard !content.isEmpty else { throw item["content"].error("empty token") }
            guard seen.insert(Array(content.utf8)).inserted else {
                throw item["content"].error("duplicate added token \(quoted(content))")
            }
            let special = try item["special"].bool(default: false)
            let token = AddedToken(
                id: try item["id"].int(), content: content,
                singleWord: try item["single_word"].bool(default: false),
                lstrip: try item["lstrip"].bool(default: false),
                rstrip: try item["rstrip"].bool(default: false),
                normalized: try item["normalized"].bool(default: !special),
                special: special)
            let expected: Int
            if let id = vocabIDs.lookup(content) {
                expected = Int(id)
            } else {
                expected = nextID
                nextID += 1
            }
            guard token.id == expected else {
                throw item["id"].error("id \(token.id) for \(quoted(content)), but the tokenizers library assigns \(expected) (the model vocabulary's id, or the next free id after it in file order)")
            }
            tokens.append(token)
        }
        return tokens
    }
}
