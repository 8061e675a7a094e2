// Post-processing when `addSpecialTokens` is true (tokenizers `processors/`). Llama-3 uses
//   Sequence[ByteLevel(trim_offsets: false), TemplateProcessing(single: "<|begin_of_text|> $A")]
// ByteLevel only adjusts offsets (ids unchanged); TemplateProcessing's `single` template inserts the
// ids listed for each special token around the encoded sequence. This is where the eval path's
// double BOS comes from: the chat template text starts with <|begin_of_text|> and the template
// prepends another (GAR-SPEC §15.1).

struct PostProcessor: Sendable {
    /// The single-sequence template: `nil` entries stand for the sequence itself ($A).
    let single: [[Int]?]

    static let none = PostProcessor(single: [nil])

    func apply(_ ids: [Int]) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(ids.count + 4)
        for piece in single {
            if let special = piece { out += special } else { out += ids }
        }
        return out
    }

    static let supported = "null, ByteLevel, TemplateProcessing, Sequence of those"

    /// Parses tokenizer.json's `post_processor`.
    static func parse(_ field: JSONField) throws -> PostProcessor {
        if field.isNull { return .none }
        let type = try field["type"].string()
        switch type {
        case "ByteLevel":
            return .none
        case "TemplateProcessing":
            return try parseTemplate(field)
        case "Sequence":
            var result = PostProcessor.none
            for child in try field["processors"].array() {
                let p = try parse(child)
                if p != .none {
                    guard result == .none else {
                        throw TokenizerError.unsupported(file: field.file, field: "\(child.path)",
                                                         found: "second template processor", supported: supported)
                    }
                    result = p
                }
            }
            return result
        default:
            throw TokenizerError.unsupported(file: field.file, field: field["type"].path,
                                             found: quoted(type), supported: supported)
        }
    }

    private static func parseTemplate(_ field: JSONField) throws -> PostProcessor {
        // special_tokens: { name: { "id": name, "ids": [..], "tokens": [..] } }
        let specials = field["special_tokens"]
        let names = try specials.isNull ? [] : specials.members().map(\.key)
        var single: [[Int]?] = []
        var sawSequence = false
        for item in try field["single"].array() {
            if item["SpecialToken"].exists {
                let name = try item["SpecialToken"]["id"].string()
                guard names.contains(name) else {
                    throw item["SpecialToken"]["id"].error("special token \(quoted(name)) is not in \(specials.path)")
                }
                let ids = try specials[name]["ids"].array().map { try $0.int() }
                single.append(ids)
            } else if item["Sequence"].exists {
                let which = try item["Sequence"]["id"].string()
                guard which == "A" else {
                    throw item["Sequence"]["id"].error("a single-sequence template can only use $A, found \(quoted(which))")
                }
                guard !sawSequence else { throw item.error("$A appears twice") }
                sawSequence = true
                single.append(nil)
            } else {
                throw item.error("expected {\"SpecialToken\": ...} or {\"Sequence\": ...}")
            }
        }
        guard sawSequence else { throw field["single"].error("template has no $A") }
        return PostProcessor(single: single)
    }
}

extension PostProcessor: Equatable {}
