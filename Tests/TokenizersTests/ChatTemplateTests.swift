// The PLM chat template rendered natively vs transformers' apply_chat_template(..., tokenize=False)
// (Tests/Fixtures/tokenizer-parity/chat_template.json), and detection of other templates.
import Foundation
import Testing
@testable import Tokenizers

struct ChatTemplateFile: Decodable {
    struct Item: Decodable {
        let type: String
        let text: String?
    }
    enum Content: Decodable {
        case string(String)
        case items([Item])
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { self = .string(s) } else { self = .items(try c.decode([Item].self)) }
        }
    }
    struct Message: Decodable {
        let role: String
        let content: Content
    }
    struct Case: Decodable {
        let messages: [Message]
        let add_generation_prompt: Bool
        let text: String
    }
    let cases: [Case]
}

extension ChatTemplateFile.Message {
    var chatMessage: ChatMessage {
        switch content {
        case let .string(s):
            return ChatMessage(role: role, content: [.text(s)])
        case let .items(items):
            return ChatMessage(role: role, content: items.map {
                switch $0.type {
                case "image": return .image
                case "video": return .video
                default: return .text($0.text ?? "")
                }
            })
        }
    }
}

@Suite struct ChatTemplateTests {
    let tokenizer = Fixtures.tokenizer

    @Test func rendersLikeTransformers() throws {
        let file = try Fixtures.decode(ChatTemplateFile.self, "chat_template.json")
        let template = try ChatTemplate.load(directory: Fixtures.tokenizerDirectory, tokenizer: tokenizer)
        #expect(file.cases.count >= 40)
        for c in file.cases {
            let got = try template.render(messages: c.messages.map(\.chatMessage), addGenerationPrompt: c.add_generation_prompt)
            #expect(got == c.text, "messages \(c.messages.map(\.role)) gen \(c.add_generation_prompt): got \(show(got)) want \(show(c.text))")
        }
    }

    @Test func fixtureTemplateIsRecognised() throws {
        let source = try String(contentsOf: Fixtures.tokenizerDirectory.appendingPathComponent("chat_template.jinja"), encoding: .utf8)
        try ChatTemplate.checkIsPLM(source, origin: "fixture")
        // Whitespace-only layout changes inside tags and around `-` markers do not matter...
        let reformatted = source.replacingOccurrences(of: "{%- endfor %}", with: "\n   {%-   endfor   %}")
            .replacingOccurrences(of: "{{- system_message }}", with: "{{-system_message}}")
        try ChatTemplate.checkIsPLM(reformatted, origin: "reformatted")
    }

    @Test(arguments: [
        // ...but real changes do: another default system prompt, other header text, a space emitted
        // between tags, texts before images, no trim.
        ("helpful language and vision assistant", "helpful assistant"),
        ("<|start_header_id|>system", "<|start_header_id|>sys"),
        ("{{- system_message }}", "{{ ' ' }}{{- system_message }}"),
        ("content['text'] | trim", "content['text']"),
        ("'equalto', 'image'", "'equalto', 'picture'"),
        // Whitespace that jinja would output (after a tag without "-", before a {{ tag) is a change.
        ("{%- endfor %}{{'<|eot_id|>' }}", "{%- endfor %}\n   {{'<|eot_id|>' }}"),
    ])
    func otherTemplatesAreRejected(find: String, replace: String) throws {
        let source = try String(contentsOf: Fixtures.tokenizerDirectory.appendingPathComponent("chat_template.jinja"), encoding: .utf8)
        #expect(source.contains(find))
        let changed = source.replacingOccurrences(of: find, with: replace)
        #expect(throws: TokenizerError.self) { try ChatTemplate.checkIsPLM(changed, origin: "changed") }
    }

    @Test func llama3InstructTemplateIsRejectedWhenLoading() throws {
        let llama3 = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
        let dir = try Fixtures.makeDirectory(tokenizerJSON: try Fixtures.tokenizerJSON(), files: ["chat_template.jinja": llama3])
        defer { Fixtures.remove(dir) }
        let t = try Tokenizer.load(directory: dir)
        do {
            _ = try ChatTemplate.load(directory: dir, tokenizer: t)
            Issue.record("expected an error")
        } catch let error as TokenizerError {
            #expect(error.description.contains("chat_template.jinja: chat template is not the PerceptionLM template"))
        }
    }

    @Test func templateFromTokenizerConfigOrChatTemplateJSON() throws {
        let config = try String(contentsOf: Fixtures.tokenizerDirectory.appendingPathComponent("tokenizer_config.json"), encoding: .utf8)
        var object = try JSONSerialization.jsonObject(with: Data(config.utf8)) as! [String: Any]
        object["chat_template"] = ChatTemplate.plmSource
        let withTemplate = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let dir1 = try Fixtures.makeDirectory(tokenizerJSON: try Fixtures.tokenizerJSON(),
                                              files: ["tokenizer_config.json": withTemplate], copy: ["special_tokens_map.json"])
        defer { Fixtures.remove(dir1) }
        _ = try ChatTemplate.load(directory: dir1, tokenizer: try Tokenizer.load(directory: dir1))

        let json = String(decoding: try JSONSerialization.data(withJSONObject: ["chat_template": ChatTemplate.plmSource]), as: UTF8.self)
        let dir2 = try Fixtures.makeDirectory(tokenizerJSON: try Fixtures.tokenizerJSON(), files: ["chat_template.json": json],
                                              copy: ["tokenizer_config.json", "special_tokens_map.json"])
        defer { Fixtures.remove(dir2) }
        _ = try ChatTemplate.load(directory: dir2, tokenizer: try Tokenizer.load(directory: dir2))

        let dir3 = try Fixtures.makeDirectory(tokenizerJSON: try Fixtures.tokenizerJSON(), copy: ["tokenizer_config.json", "special_tokens_map.json"])
        defer { Fixtures.remove(dir3) }
        #expect(throws: TokenizerError.self) { try ChatTemplate.load(directory: dir3, tokenizer: try Tokenizer.load(directory: dir3)) }
    }

    @Test func conversationsTheTemplateCannotRenderAreRefused() throws {
        let template = ChatTemplate(bosToken: "<|begin_of_text|>")
        #expect(throws: TokenizerError.self) { try template.render(messages: [], addGenerationPrompt: true) }
        #expect(throws: TokenizerError.self) {
            try template.render(messages: [ChatMessage(role: "system", content: [.image, .text("x")])], addGenerationPrompt: true)
        }
    }

    /// The GAR eval path: render, then tokenize with add_special_tokens=True → two BOS (GAR-SPEC §15.1).
    @Test func evalPathStartsWithDoubleBOS() throws {
        let template = try ChatTemplate.load(directory: Fixtures.tokenizerDirectory, tokenizer: tokenizer)
        let prompt = try template.render(messages: [.user([.image, .text("Describe <Prompt1>.")])], addGenerationPrompt: true)
        let ids = tokenizer.encode(prompt, addSpecialTokens: true)
        let bos = try #require(tokenizer.bosID)
        let header = try tokenizer.requireID(of: "<|start_header_id|>")
        #expect(Array(ids.prefix(3)) == [bos, bos, header])
        #expect(Array(tokenizer.encode(prompt, addSpecialTokens: false).prefix(2)) == [bos, header])
        #expect(ids.contains(try tokenizer.requireID(of: "<Prompt1>")))
        #expect(ids.contains(try #require(tokenizer.imageTokenID)))
    }
}

/// The tiny GAR checkpoints carry the same tokenizer files; they load, and their template is PLM.
@Suite struct GARTinyTokenizerTests {
    @Test(arguments: ["gar-tiny", "gar-tiny-8bform"])
    func loads(directory: String) throws {
        let dir = Fixtures.root.appendingPathComponent("Tests/Fixtures/\(directory)")
        let t = try Tokenizer.load(directory: dir)
        _ = try ChatTemplate.load(directory: dir, tokenizer: t)
        #expect(t.encode("Describe <Prompt1>.") == Fixtures.tokenizer.encode("Describe <Prompt1>."))
        #expect(t.eosID == Fixtures.tokenizer.id(of: "<|eot_id|>"))
    }
}
