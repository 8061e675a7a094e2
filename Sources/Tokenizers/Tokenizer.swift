// The Llama-3 byte-level BPE tokenizer, loaded from a Hugging Face model directory and run natively.
// It reproduces the `tokenizers` library (0.22) + transformers (4.56) pipeline that GAR uses:
//
//   encode:  added/special tokens split out (AddedVocabulary)
//            → Llama-3 regex split of the remaining text (Llama3PreTokenizer)
//            → ByteLevel: each piece as raw bytes
//            → BPE with ignore_merges (BPEModel)
//            → with addSpecialTokens, TemplateProcessing (BOS) (PostProcessor)
//   decode:  ids → each token's bytes (ByteLevel decoder) → lossy UTF-8
//            → optional clean_up_tokenization_spaces (TextCleanup)
//
// Every id comes from the files (bos/eos/pad/image/video by their names in tokenizer_config.json /
// special_tokens_map.json); none is hard-coded, so the tiny test tokenizer (ids 1200+) and the real
// GAR one (ids 128000+) work alike.
import Foundation

public final class Tokenizer: Sendable {
    // MARK: Public facts

    /// One past the largest token id (the number of embedding rows the ids can address).
    public let vocabSize: Int
    /// Role → token content from the config files, e.g. "bos_token" → "<|begin_of_text|>",
    /// "eos_token", "pad_token", "image_token", "video_token".
    public let specialTokens: [String: String]
    public let bosID: Int?
    public let eosID: Int?
    public let padID: Int?
    public let imageTokenID: Int?
    public let videoTokenID: Int?
    /// Ids of the added tokens marked special (skipped by `decode(skipSpecialTokens: true)`).
    public let specialTokenIDs: Set<Int>
    /// tokenizer_config.json `clean_up_tokenization_spaces` (decode's default for `cleanUp`).
    public let cleanUpTokenizationSpaces: Bool
    /// `chat_template` found in tokenizer_config.json, if any (ChatTemplate.load looks further).
    public let configChatTemplate: String?

    // MARK: Pipeline stages

    let addedVocabulary: AddedVocabulary
    let preTokenizer = Llama3PreTokenizer()
    let model: BPEModel
    let postProcessor: PostProcessor

    // MARK: Id tables (indexed by id; holes for unused ids)

    /// Token string of each id (model vocabulary or added token content).
    let tokenStrings: [String?]
    /// Token UTF-8 → id, added tokens first (as the library's token_to_id).
    let tokenIDs: ByteStringTable
    /// What the ByteLevel decoder emits for each id: `decodePool[decodeOffsets[id]..<decodeOffsets[id+1]]`.
    let decodePool: [UInt8]
    let decodeOffsets: [Int32]
    let isSpecial: [Bool]

    // MARK: - Loading

    /// Loads tokenizer.json, tokenizer_config.json and special_tokens_map.json from `directory`.
    public static func load(directory: URL) throws -> Tokenizer {
        let config = try TokenizerConfig.load(directory: directory)
        let spec = try TokenizerSpec.load(directory.appendingPathComponent("tokenizer.json"))
        return try Tokenizer(spec: spec, config: config)
    }

    init(spec: TokenizerSpec, config: TokenizerConfig) throws {
        model = spec.model
        postProcessor = spec.postProcessor
        addedVocabulary = AddedVocabulary(spec.addedTokens)

        var maxID = spec.modelVocab.map(\.id).max() ?? -1
        for t in spec.addedTokens { maxID = max(maxID, t.id) }
        vocabSize = maxID + 1

        var strings = [String?](repeating: nil, count: vocabSize)
        var special = [Bool](repeating: false, count: vocabSize)
        var ids = ByteStringTable(minimumCapacity: spec.modelVocab.count + spec.addedTokens.count)
        for t in spec.addedTokens {
            strings[t.id] = t.content
            special[t.id] = t.special
            ids.insert(Array(t.content.utf8), Int32(t.id))
        }
        for entry in spec.modelVocab {
            if strings[entry.id] == nil { strings[entry.id] = entry.token }
            ids.insert(Array(entry.token.utf8), Int32(entry.id))
        }
        var pool: [UInt8] = []
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(vocabSize + 1)
        for s in strings {
            if let s { pool += ByteLevel.decodedBytes(ofToken: s) }
            offsets.append(Int32(pool.count))
        }
        tokenStrings = strings
        tokenIDs = ids
        decodePool = pool
        decodeOffsets = offsets
        isSpecial = special
        specialTokenIDs = Set(spec.addedTokens.filter(\.special).map(\.id))

        specialTokens = config.specialTokens
        cleanUpTokenizationSpaces = config.cleanUpTokenizationSpaces
        configChatTemplate = config.chatTemplate
        // transformers re-adds config tokens that tokenizer.json lacks or flags differently (new ids,
        // new special flags, new splitting); refuse such files instead of diverging from it.
        let addedByID = Dictionary(spec.addedTokens.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for (field, token) in config.addedTokensDecoder where addedByID[token.id] != token {
            let found = addedByID[token.id].map { "\(quoted($0.content)) special \($0.special)" } ?? "no added token"
            throw field.error("\(quoted(token.content)) special \(token.special) differs from tokenizer.json added_tokens (\(found) at id \(token.id))")
        }
        let addedContents = Set(spec.addedTokens.map { Array($0.content.utf8) })
        for (role, name) in config.specialTokens.sorted(by: { $0.key < $1.key }) where !addedContents.contains(Array(name.utf8)) {
            throw TokenizerError.malformed(
                file: config.roleSource[role] ?? role, field: "",
                problem: "token \(quoted(name)) is not an added token of tokenizer.json (transformers would add it as a special token; not supported)")
        }
        func lookup(_ role: String) -> Int? {
            config.specialTokens[role].flatMap { ids.lookup($0) }.map(Int.init)
        }
        bosID = lookup("bos_token")
        eosID = lookup("eos_token")
        padID = lookup("pad_token")
        imageTokenID = lookup("image_token")
        videoTokenID = lookup("video_token")
    }

    // MARK: - Lookups

    /// Id of a token given by its content (e.g. "<|eot_id|>", "<Prompt0>", "Ġthe").
    public func id(of token: String) -> Int? {
        var token = token
        return token.withUTF8 { buf in tokenIDs.lookup(UnsafeRawBufferPointer(buf)).map(Int.init) }
    }

    /// Like `id(of:)`, but throws `TokenizerError.unknownToken` when absent.
    public func requireID(of token: String) throws -> Int {
        guard let id = id(of: token) else { throw TokenizerError.unknownToken(token) }
        return id
    }

    /// Token content of an id (byte-level string for model tokens, e.g. "Ġthe"); nil if unused.
    public func token(of id: Int) -> String? {
        id >= 0 && id < vocabSize ? tokenStrings[id] : nil
    }

    // MARK: - Encoding

    /// Token ids of `text`. With `addSpecialTokens` the post-processor's template is applied (BOS for
    /// Llama-3), exactly as `tokenizer(text)` / `encode(text)` in transformers.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        var text = text
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 3 + 4)
        text.withUTF8 { buf in
            var pieces: [TextPiece] = []
            addedVocabulary.split(buf, into: &pieces)
            var scratch = BPEModel.Scratch()
            for piece in pieces {
                switch piece {
                case let .token(id):
                    ids.append(id)
                case let .text(start, end):
                    preTokenizer.split(buf, from: start, to: end) { a, b in
                        model.encode(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buf[a..<b])), into: &ids, scratch: &scratch)
                    }
                }
            }
        }
        return addSpecialTokens ? postProcessor.apply(ids) : ids
    }

    /// The pre-tokenizer's pieces of `text` (regex split only; no added-token extraction).
    func preTokenize(_ text: String) -> [String] {
        var text = text
        var pieces: [String] = []
        text.withUTF8 { buf in
            preTokenizer.split(buf, from: 0, to: buf.count) { a, b in
                pieces.append(String(decoding: UnsafeBufferPointer(rebasing: buf[a..<b]), as: UTF8.self))
            }
        }
        return pieces
    }

    /// Number of pre-tokens of `text` (regex split only; for benchmarks of that stage).
    public func preTokenCount(_ text: String) -> Int {
        var text = text
        var count = 0
        text.withUTF8 { buf in
            preTokenizer.split(buf, from: 0, to: buf.count) { _, _ in count += 1 }
        }
        return count
    }

    // MARK: - Decoding

    /// Appends the bytes the ByteLevel decoder produces for `ids`. Ids outside the vocabulary are
    /// skipped (as the library does); specials too when `skipSpecialTokens`.
    func appendBytes(of ids: some Sequence<Int>, skipSpecialTokens: Bool, to out: inout [UInt8]) {
        decodePool.withUnsafeBufferPointer { pool in
            for id in ids where id >= 0 && id < vocabSize {
                if skipSpecialTokens && isSpecial[id] { continue }
                let a = Int(decodeOffsets[id]), b = Int(decodeOffsets[id + 1])
                out.append(contentsOf: UnsafeBufferPointer(rebasing: pool[a..<b]))
            }
        }
    }

    /// Text of `ids`, as transformers' `tokenizer.decode(ids, skip_special_tokens:,
    /// clean_up_tokenization_spaces:)`. `cleanUp` defaults to the config's setting. Invalid UTF-8
    /// (ids that cut a character) becomes U+FFFD.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false, cleanUp: Bool? = nil) -> String {
        var bytes: [UInt8] = []
        appendBytes(of: ids, skipSpecialTokens: skipSpecialTokens, to: &bytes)
        let text = TextCleanup.lossyUTF8(bytes)
        return cleanUp ?? cleanUpTokenizationSpaces ? TextCleanup.cleanUpTokenizationSpaces(text) : text
    }

    /// GAR's demo decode rule (GAR-SPEC §15.2): skip special tokens (incl. <PromptK>), the configured
    /// clean-up (true for GAR), lossy UTF-8, then Python `str.strip()`.
    public func garDecode(_ ids: [Int]) -> String {
        TextCleanup.pythonStrip(decode(ids, skipSpecialTokens: true))
    }
}
