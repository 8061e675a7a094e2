// The user text of a video request as data (ARCHITECTURE.md §4: "the template text is data: it
// lives in pipelines/*.yaml"). The default, `.v1`, is video protocol v1 exactly:
//
//   text         "There are some objects I am curious about: {regions}\n{region_lines}{question}"
//   region_name  "<Prompt{k}>;"       joined by region_separator " " into {regions}
//   region_line  "<Prompt{k}>: {crops}\n"   once per region k (ascending) into {region_lines}
//
// {crops} stands for region k's crop spans: 256 crop tokens per frame where k is visible, in frame
// order, back to back. The builder records every span while it emits it (never found by scanning
// ids). Literal braces are written `{{` and `}}`.

/// A video prompt template (see the file header for the placeholders).
public struct VideoPromptTemplate: Sendable, Equatable, Codable {
    /// The whole user text: `{regions}`, `{region_lines}` (required, once) and `{question}`.
    public var text: String
    /// One region's name inside `{regions}`: `{k}` is the region index.
    public var regionName: String
    /// Between two region names.
    public var regionSeparator: String
    /// One region's line inside `{region_lines}`: `{k}` and `{crops}` (required, once).
    public var regionLine: String

    public init(text: String, regionName: String, regionSeparator: String, regionLine: String) {
        self.text = text
        self.regionName = regionName
        self.regionSeparator = regionSeparator
        self.regionLine = regionLine
    }

    /// Video protocol v1 (ARCHITECTURE.md §4).
    public static let v1 = VideoPromptTemplate(
        text: "There are some objects I am curious about: {regions}\n{region_lines}{question}",
        regionName: "<Prompt{k}>;", regionSeparator: " ", regionLine: "<Prompt{k}>: {crops}\n")

    /// A piece of a template string: literal text or a placeholder name.
    enum Part: Equatable {
        case literal(String)
        case placeholder(String)
    }

    /// Splits `s` at `{name}` placeholders; `{{`/`}}` are literal braces. `field` names the
    /// template field in errors; `allowed` lists its placeholders.
    static func parts(_ s: String, field: String, allowed: Set<String>) throws -> [Part] {
        var out: [Part] = []
        var literal = ""
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            let next = s.index(after: i)
            if c == "{", next < s.endIndex, s[next] == "{" {
                literal.append("{"); i = s.index(after: next); continue
            }
            if c == "}", next < s.endIndex, s[next] == "}" {
                literal.append("}"); i = s.index(after: next); continue
            }
            if c == "{" {
                guard let close = s[next...].firstIndex(of: "}") else {
                    throw ModelError.invalidInput("prompt template \(field): '{' without a closing '}' (write '{{' for a literal brace)")
                }
                let name = String(s[next ..< close])
                guard allowed.contains(name) else {
                    let list = allowed.sorted().map { "{\($0)}" }.joined(separator: ", ")
                    throw ModelError.invalidInput("prompt template \(field): unknown placeholder {\(name)} (allowed: \(list))")
                }
                if !literal.isEmpty { out.append(.literal(literal)); literal = "" }
                out.append(.placeholder(name))
                i = s.index(after: close)
                continue
            }
            if c == "}" {
                throw ModelError.invalidInput("prompt template \(field): '}' without an opening '{' (write '}}' for a literal brace)")
            }
            literal.append(c)
            i = next
        }
        if !literal.isEmpty { out.append(.literal(literal)) }
        return out
    }

    /// Checks the placeholders: `{region_lines}` once in `text`, `{crops}` once in `regionLine`,
    /// the others at most once (`{k}` any number of times).
    public func validate() throws {
        let textParts = try VideoPromptTemplate.parts(text, field: "text", allowed: ["regions", "region_lines", "question"])
        _ = try VideoPromptTemplate.parts(regionName, field: "region_name", allowed: ["k"])
        _ = try VideoPromptTemplate.parts(regionSeparator, field: "region_separator", allowed: [])
        let lineParts = try VideoPromptTemplate.parts(regionLine, field: "region_line", allowed: ["k", "crops"])
        func count(_ parts: [Part], _ name: String) -> Int { parts.filter { $0 == .placeholder(name) }.count }
        guard count(textParts, "region_lines") == 1 else {
            throw ModelError.invalidInput("prompt template text: needs {region_lines} exactly once (the crop spans go there)")
        }
        for name in ["regions", "question"] where count(textParts, name) > 1 {
            throw ModelError.invalidInput("prompt template text: {\(name)} appears more than once")
        }
        guard count(lineParts, "crops") == 1 else {
            throw ModelError.invalidInput("prompt template region_line: needs {crops} exactly once")
        }
    }

    /// The template filled in for `visible` (regions × frames) and a question, as builder pieces.
    func pieces(visible: [[Bool]], frames: Int, question: String) throws -> [PromptBuilder.Piece] {
        try validate()
        let textParts = try VideoPromptTemplate.parts(text, field: "text", allowed: ["regions", "region_lines", "question"])
        let nameParts = try VideoPromptTemplate.parts(regionName, field: "region_name", allowed: ["k"])
        let sepParts = try VideoPromptTemplate.parts(regionSeparator, field: "region_separator", allowed: [])
        let lineParts = try VideoPromptTemplate.parts(regionLine, field: "region_line", allowed: ["k", "crops"])
        func literal(_ parts: [Part], k: Int) -> String {
            parts.map { part -> String in
                switch part {
                case let .literal(s): return s
                case .placeholder: return String(k)   // only {k} reaches here
                }
            }.joined()
        }
        var out: [PromptBuilder.Piece] = []
        for part in textParts {
            switch part {
            case let .literal(s):
                out.append(.text(s))
            case .placeholder("regions"):
                out.append(.text(visible.indices.map { literal(nameParts, k: $0) }.joined(separator: literal(sepParts, k: 0))))
            case .placeholder("question"):
                out.append(.text(question))
            default: // region_lines
                for k in visible.indices {
                    for lp in lineParts {
                        switch lp {
                        case let .literal(s): out.append(.text(s))
                        case .placeholder("k"): out.append(.text(String(k)))
                        default: // crops
                            for f in 0 ..< frames where visible[k][f] { out.append(.crop(region: k, frame: f)) }
                        }
                    }
                }
            }
        }
        return out
    }
}

extension PromptBuilder {
    /// A video prompt from a template: `visible[k][f]` says whether region k has a span for frame f.
    /// `.v1` gives exactly `video(frames:visible:question:doubleBOS:)`.
    public func video(frames: Int, visible: [[Bool]], question: String, template: VideoPromptTemplate,
                      doubleBOS: Bool = true) throws -> PromptLayout {
        for k in visible.indices { try requireRegion(k, of: visible.count) }
        let pieces = try template.pieces(visible: visible, frames: frames, question: question)
        return build(images: frames, doubleBOS: doubleBOS, pieces: pieces)
    }
}
