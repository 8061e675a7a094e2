// GAR prompts as token ids, with every replay span recorded while the ids are built (never found
// afterwards by scanning ids). Texts follow the reference exactly (GAR-SPEC §5.2; video protocol v1,
// ARCHITECTURE.md §4):
//
//   describe  "There are some objects I am curious about: <Prompt1>;\n<Prompt1>: " CROP_1
//             "Describe this masked region in detail."
//   ask       "There are some objects I am curious about: " ("<Promptk>; " per region) "\n"
//             ("<Promptk>: " CROP_k "\n" per region) "\n" question            (regions ascending)
//   video     "There are some objects I am curious about: " ("<Promptk>;" joined by " ") "\n"
//             ("<Promptk>: " CROP_k×(visible frames of k) "\n" per region) question
//
// CROP_k is `crop_tokens_ids[k]` (<|reserved_special_token_{k+2}|>) repeated 256 times.
//
// How the ids are made. The reference renders the chat template to text (one <|image|> per image
// item), expands <|image|> to 256 per tile, and tokenises the whole string with BOS added (so the
// ids start with two BOS: the template's and the post-processor's, GAR-SPEC §15.1). The tokenizer
// splits added/special tokens out before anything else, so text between special tokens is
// tokenised independently: tokenising the pieces between the <|image|> run and the crop runs one by
// one and concatenating gives the same ids as tokenising the whole string. The builder does exactly
// that, appending the runs itself and noting where each starts. The chat frame (text before the
// images and after the user text) comes from rendering the chat template (Tokenizers' ChatTemplate,
// the PLM template: images come first in the user turn) around a placeholder.
// Tests check the result against the goldens' input ids and raw prompts.
import Checkpoints
import Tokenizers

/// Where one replay span sits in the prompt.
public struct ReplaySpan: Sendable, Equatable {
    /// Region k (`<Promptk>`).
    public var region: Int
    /// Frame index in video mode; nil in image mode (replay over the merged tile grid).
    public var frame: Int?
    /// Position of the first of its 256 crop tokens.
    public var start: Int
    /// The crop token id filling the span in the prompt.
    public var cropToken: Int
}

/// The prompt of one request.
public struct PromptLayout: Sendable, Equatable {
    public var ids: [Int]
    /// Position of the first `<|image|>` token.
    public var imageStart: Int
    /// Number of `<|image|>` tokens (256 per tile or frame).
    public var imageTokens: Int
    /// Replay spans in prompt order.
    public var spans: [ReplaySpan]
    /// The user text as the reference writes it (crop runs spelled out), before the template's trim.
    public var userText: String
}

/// Builds GAR prompts for one tokenizer / config.
public struct PromptBuilder: Sendable {
    public let tokenizer: Tokenizer
    /// Crop token ids per region (`crop_tokens_ids`).
    public let cropTokenIDs: [Int]
    public let imageTokenID: Int
    /// Tokens per tile after pooling (256 for GAR).
    public let tokensPerTile: Int
    /// Ids the post-processor puts around a text when special tokens are added (BOS for Llama-3).
    let specialPrefix: [Int]
    let specialSuffix: [Int]
    /// Chat-template text before the images of the user turn / after its text.
    let frameHead: String
    let frameTail: String

    public static let describeText = "Describe this masked region in detail."

    public init(tokenizer: Tokenizer, cropTokenIDs: [Int], imageTokenID: Int, tokensPerTile: Int,
                chatTemplate: (_ userText: String) throws -> String) throws {
        self.tokenizer = tokenizer
        self.cropTokenIDs = cropTokenIDs
        self.imageTokenID = imageTokenID
        self.tokensPerTile = tokensPerTile
        // What the post-processor adds around a sequence: compare a text with and without it.
        let bare = tokenizer.encode("a", addSpecialTokens: false)
        let wrapped = tokenizer.encode("a", addSpecialTokens: true)
        guard let at = (0 ... max(0, wrapped.count - bare.count)).first(where: { Array(wrapped[$0 ..< min(wrapped.count, $0 + bare.count)]) == bare }) else {
            throw ModelError.invalidInput("tokenizer: its post-processor changes the text's own tokens; cannot build prompts")
        }
        specialPrefix = Array(wrapped[..<at])
        specialSuffix = Array(wrapped[(at + bare.count)...])
        // The frame: render a user turn holding only a placeholder that cannot be trimmed away.
        let marker = "\u{E000}GAR\u{E000}"
        let rendered = try chatTemplate(marker)
        guard let r = rendered.range(of: marker) else {
            throw ModelError.invalidInput("chat template: the user text does not appear in the rendered prompt")
        }
        frameHead = String(rendered[..<r.lowerBound])
        frameTail = String(rendered[r.upperBound...])
    }

    // MARK: the three GAR prompts

    /// The single-region describe prompt (always `<Prompt1>` / crop token 1, as the eval code).
    public func describe(tiles: Int, doubleBOS: Bool = true) throws -> PromptLayout {
        let k = 1
        try requireRegion(k, of: k + 1)   // it uses crop token 1
        return build(images: tiles, doubleBOS: doubleBOS, pieces: [
            .text("There are some objects I am curious about: <Prompt\(k)>;\n<Prompt\(k)>: "),
            .crop(region: k, frame: nil),
            .text(PromptBuilder.describeText),
        ])
    }

    /// The multi-region prompt for regions `0 ..< regions` (ascending) and a question.
    public func ask(tiles: Int, regions: Int, question: String, doubleBOS: Bool = true) throws -> PromptLayout {
        for k in 0 ..< regions { try requireRegion(k, of: regions) }
        var pieces: [Piece] = []
        var objects = "There are some objects I am curious about: "
        for k in 0 ..< regions { objects += "<Prompt\(k)>; " }
        pieces.append(.text(objects + "\n"))
        for k in 0 ..< regions {
            pieces.append(.text("<Prompt\(k)>: "))
            pieces.append(.crop(region: k, frame: nil))
            pieces.append(.text("\n"))
        }
        pieces.append(.text("\n" + question))
        return build(images: tiles, doubleBOS: doubleBOS, pieces: pieces)
    }

    /// Video protocol v1: `visible[k][f]` says whether region k has a span for frame f.
    public func video(frames: Int, visible: [[Bool]], question: String, doubleBOS: Bool = true) throws -> PromptLayout {
        for k in visible.indices { try requireRegion(k, of: visible.count) }
        var pieces: [Piece] = []
        let names = visible.indices.map { "<Prompt\($0)>;" }.joined(separator: " ")
        pieces.append(.text("There are some objects I am curious about: " + names + "\n"))
        for k in visible.indices {
            pieces.append(.text("<Prompt\(k)>: "))
            for f in 0 ..< frames where visible[k][f] { pieces.append(.crop(region: k, frame: f)) }
            pieces.append(.text("\n"))
        }
        pieces.append(.text(question))
        return build(images: frames, doubleBOS: doubleBOS, pieces: pieces)
    }

    // MARK: building

    enum Piece {
        case text(String)
        case crop(region: Int, frame: Int?)
    }

    /// Region `k` of `count` can be named and cropped (the error gives the real count).
    func requireRegion(_ k: Int, of count: Int) throws {
        guard k < cropTokenIDs.count else { throw ModelError.tooManyRegions(count: count, budget: cropTokenIDs.count) }
        guard tokenizer.id(of: "<Prompt\(k)>") != nil else {
            throw ModelError.invalidInput("the tokenizer has no <Prompt\(k)> token, so region \(k) cannot be named")
        }
    }

    func build(images: Int, doubleBOS: Bool, pieces: [Piece]) -> PromptLayout {
        let trimmed = PromptBuilder.trimEnds(PromptBuilder.mergeTexts(pieces))
        var ids: [Int] = doubleBOS ? specialPrefix : []
        ids += tokenizer.encode(frameHead, addSpecialTokens: false)
        let imageStart = ids.count
        let imageTokens = images * tokensPerTile
        ids += Array(repeating: imageTokenID, count: imageTokens)
        var spans: [ReplaySpan] = []
        var userText = ""
        for piece in trimmed {
            switch piece {
            case let .text(t):
                ids += tokenizer.encode(t, addSpecialTokens: false)
                userText += t
            case let .crop(region, frame):
                let id = cropTokenIDs[region]
                spans.append(ReplaySpan(region: region, frame: frame, start: ids.count, cropToken: id))
                ids += Array(repeating: id, count: tokensPerTile)
                userText += String(repeating: tokenizer.token(of: id) ?? "", count: tokensPerTile)
            }
        }
        ids += tokenizer.encode(frameTail, addSpecialTokens: false)
        if doubleBOS { ids += specialSuffix }
        return PromptLayout(ids: ids, imageStart: imageStart, imageTokens: imageTokens, spans: spans, userText: userText)
    }

    /// Adjacent text pieces joined: the tokenizer must see each stretch of text between special
    /// tokens whole ("\n" + "\nIs" tokenises differently from "\n\nIs").
    static func mergeTexts(_ pieces: [Piece]) -> [Piece] {
        var out: [Piece] = []
        for p in pieces {
            if case let .text(b) = p, let last = out.last, case let .text(a) = last {
                out[out.count - 1] = .text(a + b)
            } else {
                out.append(p)
            }
        }
        return out
    }

    /// jinja `trim` of the whole user text (Python `str.strip()`), applied to the text pieces at
    /// both ends (crop runs are never whitespace, so trimming stops at them).
    static func trimEnds(_ pieces: [Piece]) -> [Piece] {
        var out = pieces
        for i in out.indices {
            guard case let .text(t) = out[i] else { break }
            let s = String(t.unicodeScalars.drop(while: TextCleanup.isPythonWhitespace))
            out[i] = .text(s)
            if !s.isEmpty { break }
        }
        for i in out.indices.reversed() {
            guard case let .text(t) = out[i] else { break }
            var scalars = Array(t.unicodeScalars)
            while let last = scalars.last, TextCleanup.isPythonWhitespace(last) { scalars.removeLast() }
            let s = String(String.UnicodeScalarView(scalars))
            out[i] = .text(s)
            if !s.isEmpty { break }
        }
        return out
    }
}
