// The PerceptionLM chat template (transformers `convert_perception_lm_weights_to_hf.py` CHAT_TEMPLATE,
// saved into the GAR repo), rendered natively — no template engine. GAR-SPEC §5.1. Output, in order:
//
//   bos_token
//   <|start_header_id|>system<|end_header_id|>\n\n + system text + <|eot_id|>
//       system text = the first message's content |trim when its role is "system" (that message is
//       then not rendered again), else the default PLM system prompt below;
//   per message: <|start_header_id|> + role + <|end_header_id|>\n\n
//       + <|image|> per image item + <|video|> per video item + each text item |trim + <|eot_id|>
//       (images first, then videos, then texts, whatever their order in the message);
//   with addGenerationPrompt: <|start_header_id|>assistant<|end_header_id|>\n\n
//
// jinja's `trim` is Python `str.strip()` (TextCleanup.pythonStrip). The template strings are fixed
// by the template itself; only bos_token comes from the tokenizer config.
//
// `load(directory:)` reads the model directory's template (chat_template.jinja, chat_template.json,
// or tokenizer_config.json's "chat_template") and refuses one that is not the PLM template, comparing
// normalised text (JinjaText.normalise), instead of rendering the wrong format.
import Foundation

public struct ChatMessage: Sendable, Equatable {
    public enum Item: Sendable, Equatable {
        case image
        case video
        case text(String)
    }

    public var role: String
    public var content: [Item]

    public init(role: String, content: [Item]) {
        self.role = role
        self.content = content
    }

    public static func system(_ text: String) -> ChatMessage { ChatMessage(role: "system", content: [.text(text)]) }
    public static func user(_ content: [Item]) -> ChatMessage { ChatMessage(role: "user", content: content) }
    public static func assistant(_ text: String) -> ChatMessage { ChatMessage(role: "assistant", content: [.text(text)]) }
}

public struct ChatTemplate: Sendable {
    /// The template's default system prompt (used when the first message is not a system message).
    public static let defaultSystemPrompt =
        "You are a helpful language and vision assistant. You are able to understand the visual content that the user provides, and assist the user with a variety of tasks using natural language."

    /// The PLM template source, as transformers writes it (chat_template.jinja of a PLM/GAR repo).
    public static let plmSource = """
        {{- bos_token }}{%- if messages[0]['role'] == 'system' -%}    {%- set system_message = messages[0]['content']|trim %}
            {%- set messages = messages[1:] %}
        {%- else %}    {%- set system_message = '\(defaultSystemPrompt)' %}{%- endif %}{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}{{- system_message }}{{- '<|eot_id|>' }}{%- for message in messages %}{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}{%- for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<|image|>' }}{%- endfor %}{%- for content in message['content'] | selectattr('type', 'equalto', 'video') %}{{ '<|video|>' }}{%- endfor %}{%- for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{- content['text'] | trim }}{%- endfor %}{{'<|eot_id|>' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}
        """

    /// The template's `bos_token` variable (tokenizer config's bos_token).
    public let bosToken: String

    /// A PLM template with the given BOS token (use when the model directory has none).
    public init(bosToken: String) {
        self.bosToken = bosToken
    }

    /// Reads the model directory's chat template and checks that it is the PLM template.
    /// Looks in chat_template.jinja, then chat_template.json ({"chat_template": ...}), then
    /// tokenizer_config.json's "chat_template".
    public static func load(directory: URL, tokenizer: Tokenizer) throws -> ChatTemplate {
        guard let bos = tokenizer.specialTokens["bos_token"] else {
            throw TokenizerError.malformed(file: directory.appendingPathComponent("tokenizer_config.json").path,
                                           field: "bos_token", problem: "missing (the chat template starts with it)")
        }
        let jinja = directory.appendingPathComponent("chat_template.jinja")
        let json = directory.appendingPathComponent("chat_template.json")
        let source: String
        let origin: String
        if FileManager.default.fileExists(atPath: jinja.path) {
            guard let data = FileManager.default.contents(atPath: jinja.path) else {
                throw TokenizerError.unreadable(path: jinja.path, reason: "cannot read file")
            }
            source = String(decoding: data, as: UTF8.self)
            origin = jinja.path
        } else if FileManager.default.fileExists(atPath: json.path) {
            source = try JSONField.load(json)["chat_template"].string()
            origin = json.path
        } else if let fromConfig = tokenizer.configChatTemplate {
            source = fromConfig
            origin = directory.appendingPathComponent("tokenizer_config.json").path + ": chat_template"
        } else {
            throw TokenizerError.chatTemplateMissing(looked: [jinja.path, json.path, "tokenizer_config.json chat_template"])
        }
        try checkIsPLM(source, origin: origin)
        return ChatTemplate(bosToken: bos)
    }

    /// Throws `chatTemplateNotPLM` unless `source` normalises to the PLM template.
    public static func checkIsPLM(_ source: String, origin: String) throws {
        let got = JinjaText.normalise(source)
        let want = JinjaText.normalise(plmSource)
        guard got != want else { return }
        // Point at the first difference to help whoever has to port the new template.
        let g = Array(got.unicodeScalars), w = Array(want.unicodeScalars)
        var i = 0
        while i < g.count && i < w.count && g[i] == w[i] { i += 1 }
        let context = String(String.UnicodeScalarView(g[max(0, i - 20)..<min(g.count, i + 30)]))
        throw TokenizerError.chatTemplateNotPLM(source: origin, detail: "first difference after \(i) normalised characters, near \(quoted(context))")
    }

    /// The prompt text for `messages`, byte-identical to transformers'
    /// `apply_chat_template(messages, tokenize=False, add_generation_prompt:)` with the PLM template.
    /// Throws for conversations the template would render as nonsense (empty list; a leading system
    /// message that is not a single text item — the template would print the Python list).
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool) throws -> String {
        guard let first = messages.first else {
            throw TokenizerError.invalidConversation("no messages (the template reads messages[0])")
        }
        var out = bosToken
        var rest = messages[...]
        var systemText = Self.defaultSystemPrompt
        if first.role == "system" {
            guard first.content.count == 1, case let .text(text) = first.content[0] else {
                throw TokenizerError.invalidConversation(
                    "a leading system message must be one text item (the PLM template trims it as a plain string)")
            }
            systemText = TextCleanup.pythonStrip(text)
            rest = messages.dropFirst()
        }
        out += "<|start_header_id|>system<|end_header_id|>\n\n" + systemText + "<|eot_id|>"
        for message in rest {
            out += "<|start_header_id|>" + message.role + "<|end_header_id|>\n\n"
            for case .image in message.content { out += "<|image|>" }
            for case .video in message.content { out += "<|video|>" }
            for case let .text(text) in message.content { out += TextCleanup.pythonStrip(text) }
            out += "<|eot_id|>"
        }
        if addGenerationPrompt {
            out += "<|start_header_id|>assistant<|end_header_id|>\n\n"
        }
        return out
    }
}

/// Normalising jinja source for comparison: two templates with the same normal form render the same.
/// Output text between tags is kept after applying whitespace control the way transformers' jinja
/// environment does (`-` markers, trim_blocks, lstrip_blocks); inside tags, whitespace outside string
/// literals and the `-` markers are removed, and comments are dropped.
enum JinjaText {
    static func normalise(_ source: String) -> String {
        let s = Array(source.unicodeScalars)
        var parts: [(isTag: Bool, text: [Unicode.Scalar], kind: Unicode.Scalar, trimBefore: Bool, trimAfter: Bool)] = []
        var i = 0
        var text: [Unicode.Scalar] = []
        while i < s.count {
            if s[i] == "{", i + 1 < s.count, s[i + 1] == "{" || s[i + 1] == "%" || s[i + 1] == "#" {
                let kind = s[i + 1]
                let close: Unicode.Scalar = kind == "{" ? "}" : kind
                // Find the closing delimiter, skipping string literals.
                var j = i + 2
                var quote: Unicode.Scalar? = nil
                while j + 1 < s.count {
                    if let q = quote {
                        if s[j] == "\\" { j += 2; continue }
                        if s[j] == q { quote = nil }
                    } else if s[j] == "'" || s[j] == "\"" {
                        quote = s[j]
                    } else if s[j] == close && s[j + 1] == "}" {
                        break
                    }
                    j += 1
                }
                guard j + 1 < s.count else { text += s[i...]; break }
                var body = Array(s[(i + 2)..<j])
                let trimBefore = body.first == "-"
                let trimAfter = body.last == "-"
                if trimBefore { body.removeFirst() }
                if trimAfter && !body.isEmpty { body.removeLast() }
                parts.append((false, text, " ", false, false))
                text = []
                parts.append((true, kind == "#" ? [] : squeeze(body), kind, trimBefore, trimAfter))
                i = j + 2
            } else {
                text.append(s[i])
                i += 1
            }
        }
        parts.append((false, text, " ", false, false))

        // Whitespace control on the text parts around each tag.
        for k in parts.indices where parts[k].isTag {
            let tag = parts[k]
            let isBlock = tag.kind == "%" || tag.kind == "#"
            if k > 0 {
                if tag.trimBefore {
                    while let last = parts[k - 1].text.last, isJinjaSpace(last) { parts[k - 1].text.removeLast() }
                } else if isBlock {
                    // lstrip_blocks: strip spaces/tabs from the start of the line up to the block tag.
                    var t = parts[k - 1].text
                    var m = t.count
                    while m > 0 && (t[m - 1] == " " || t[m - 1] == "\t") { m -= 1 }
                    if m == 0 || t[m - 1] == "\n" { t.removeSubrange(m...); parts[k - 1].text = t }
                }
            }
            if k + 1 < parts.count {
                if tag.trimAfter {
                    while let f = parts[k + 1].text.first, isJinjaSpace(f) { parts[k + 1].text.removeFirst() }
                } else if isBlock, parts[k + 1].text.first == "\n" {
                    parts[k + 1].text.removeFirst()  // trim_blocks
                }
            }
        }
        var out = String.UnicodeScalarView()
        for p in parts {
            if p.isTag {
                out.append(contentsOf: "{\(p.kind)".unicodeScalars)
                out.append(contentsOf: p.text)
                out.append(contentsOf: "\(p.kind == "{" ? "}" : p.kind)}".unicodeScalars)
            } else {
                out.append(contentsOf: p.text)
            }
        }
        return String(out)
    }

    private static func isJinjaSpace(_ c: Unicode.Scalar) -> Bool {
        c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0B}" || c == "\u{0C}"
    }

    /// Removes whitespace outside string literals.
    private static func squeeze(_ body: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        var quote: Unicode.Scalar? = nil
        var k = 0
        while k < body.count {
            let c = body[k]
            if let q = quote {
                out.append(c)
                if c == "\\" && k + 1 < body.count { out.append(body[k + 1]); k += 2; continue }
                if c == q { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
                out.append(c)
            } else if !isJinjaSpace(c) {
                out.append(c)
            }
            k += 1
        }
        return out
    }
}
