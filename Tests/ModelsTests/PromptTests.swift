// Prompts: the rendered text equals the reference's chat-template output (manifests'
// raw_prompt_abbrev), tokenising piecewise equals tokenising the whole string, spans are recorded
// where the crop runs are, the BOS options, and the trim rule of the template.
import Foundation
@testable import Models
import Tokenizers
import Testing

@Suite struct PromptTests {
    /// Expands the manifest's ⟪TOKEN×N⟫ runs.
    static func expand(_ abbreviated: String) -> String {
        var out = ""
        var rest = Substring(abbreviated)
        while let open = rest.firstIndex(of: "\u{27EA}") {
            out += rest[..<open]
            let close = rest[open...].firstIndex(of: "\u{27EB}")!
            let inner = rest[rest.index(after: open) ..< close]
            let times = inner.lastIndex(of: "\u{00D7}")!
            let token = String(inner[..<times]), count = Int(inner[inner.index(after: times)...])!
            out += String(repeating: token, count: count)
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    /// The reference text with each <|image|> expanded to 256 per tile (what the processor
    /// tokenises), from our user text rendered through the chat template.
    static func referenceStyleText(_ model: GARModel, _ prompt: PromptLayout, images: Int, tilesPerImage: Int) throws -> String {
        let template = try ChatTemplate.load(directory: URL(fileURLWithPath: model.directory), tokenizer: model.tokenizer)
        let rendered = try template.render(messages: [.user([.text(prompt.userText)])], addGenerationPrompt: true)
        let image = model.tokenizer.token(of: model.spec.imageTokenId)!
        // The template puts the image items right after the user header.
        let header = "<|start_header_id|>user<|end_header_id|>\n\n"
        let r = rendered.range(of: header)!
        return String(rendered[..<r.upperBound]) + String(repeating: image, count: images) + String(rendered[r.upperBound...])
    }

    @Test(arguments: GoldenParityTests.cases)
    func renderedPromptEqualsReference(_ caseName: String) throws {
        let g = try GoldenCase(caseName)
        let model = try Fixtures.model(g.checkpoint)
        let tiles = g.expected["num_tiles"] as! Int
        let prompt: PromptLayout
        switch g.inputs["kind"] as! String {
        case "describe": prompt = try model.prompts.describe(tiles: tiles)
        case "ask": prompt = try model.prompts.ask(tiles: tiles, regions: (g.inputs["masks"] as! [String]).count, question: g.inputs["question"] as! String)
        default:
            let visible = (g.expected["visible"] as! [[Bool]])
            prompt = try model.prompts.video(frames: tiles, visible: visible, question: g.inputs["question"] as! String)
        }
        let video = g.inputs["kind"] as! String == "ask-video"
        // Image mode renders ONE <|image|> (expanded to 256·T by the processor); video mode F.
        let text = try PromptTests.referenceStyleText(model, prompt, images: video ? tiles : 1, tilesPerImage: video ? 1 : tiles)
        let want = PromptTests.expand(g.expected["raw_prompt_abbrev"] as! String)
        #expect(text == want)
        // Tokenising the whole (image-expanded) string as the reference does gives our ids.
        let image = model.tokenizer.token(of: model.spec.imageTokenId)!
        let expanded = want.replacingOccurrences(of: image, with: String(repeating: image, count: video ? 256 : 256 * tiles))
        #expect(model.tokenizer.encode(expanded, addSpecialTokens: true) == prompt.ids)
        // Spans sit on crop runs of the right token and region.
        for span in prompt.spans {
            #expect(prompt.ids[span.start ..< span.start + 256].allSatisfy { $0 == model.spec.cropTokenIds[span.region] })
        }
        #expect(prompt.ids[prompt.imageStart ..< prompt.imageStart + prompt.imageTokens].allSatisfy { $0 == model.spec.imageTokenId })
    }

    @Test func doubleAndSingleBOS() throws {
        let model = try Fixtures.model("gar-tiny")
        let bos = try #require(model.tokenizer.bosID)
        let two = try model.prompts.describe(tiles: 3)
        let one = try model.prompts.describe(tiles: 3, doubleBOS: false)
        #expect(Array(two.ids.prefix(3)) == [bos, bos, model.tokenizer.id(of: "<|start_header_id|>")!])
        #expect(one.ids.first == bos && one.ids[1] != bos)
        #expect(Array(two.ids.dropFirst()) == one.ids)
        #expect(one.spans.map(\.start) == two.spans.map { $0.start - 1 })
    }

    /// The template trims the whole user text: a question with surrounding whitespace gives the
    /// same ids as the trimmed question; whitespace inside stays.
    @Test func questionIsTrimmedAsTheTemplateTrims() throws {
        let model = try Fixtures.model("gar-tiny")
        let a = try model.prompts.ask(tiles: 2, regions: 2, question: " \t\n Where is <Prompt0>?\u{3000}\n")
        let b = try model.prompts.ask(tiles: 2, regions: 2, question: "Where is <Prompt0>?")
        #expect(a.ids != b.ids)   // the leading whitespace is inside the text, after "\n\n": kept
        let c = try model.prompts.ask(tiles: 2, regions: 2, question: "Where is <Prompt0>?  \n\u{00A0}")
        #expect(c.ids == b.ids)   // trailing whitespace of the whole user text: trimmed
    }

    /// Video spans: one per visible (region, frame), in frame order, each region's spans back to back.
    @Test func videoSpansFollowVisibility() throws {
        let model = try Fixtures.model("gar-tiny")
        let visible = [[true, false, true], [false, false, false], [true, true, true]]
        let p = try model.prompts.video(frames: 3, visible: visible, question: "Q?")
        #expect(p.spans.map { [$0.region, $0.frame!] } == [[0, 0], [0, 2], [2, 0], [2, 1], [2, 2]])
        #expect(p.spans[1].start == p.spans[0].start + 256)
        #expect(p.imageTokens == 3 * 256)
    }

    @Test func regionBudget() throws {
        let model = try Fixtures.model("gar-tiny")
        #expect(throws: ModelError.tooManyRegions(count: 6, budget: 5)) {
            _ = try model.prompts.ask(tiles: 1, regions: 6, question: "?")
        }
    }
}
