// The tiny GAR checkpoints of Tests/Fixtures (written by generate.py through the real
// transformers/timm classes): config decoding, schema match, and a strict scoped load of every
// tensor the way the model loader takes them.
import Foundation
import Testing
@testable import Checkpoints
import Tensors

@Suite struct TinyGARFixtureTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    @Test(arguments: ["gar-tiny", "gar-tiny-8bform"])
    func strictLoadOfEveryTensor(_ name: String) throws {
        let dir = Self.fixtures.appendingPathComponent(name).path
        let (_, spec) = try GARConfig.load(dir)
        let checkpoint = try Checkpoint(directory: dir)
        let schema = GARKeySchema(spec: spec)
        #expect(schema.compare(with: checkpoint).isClean)

        // Take everything through scopes, as Models will (prefixes mirror the module tree).
        let loader = WeightLoader(checkpoint)
        let root = loader.scope("")
        for entry in schema.entries where !entry.optional {
            let parts = entry.name.split(separator: ".")
            let scope = root.scope(parts.dropLast().joined(separator: "."))
            let t = try scope.take(String(parts.last!), shape: entry.shape)
            #expect(t.shape == entry.shape)
        }
        let v = spec.vision, t = spec.text
        let embed = try root.scope("mllm.model.language_model").take("embed_tokens.weight", shape: [t.vocabSize, t.hiddenSize])
        let head = try root.scope("mllm").takeOptional("lm_head.weight", shape: [t.vocabSize, t.hiddenSize]) ?? embed
        #expect(spec.text.tieWordEmbeddings == (head == embed))
        try loader.finish()

        // bf16 → f32 widening is exact: compare a tensor with its raw bit patterns.
        let key = "mllm.model.vision_tower.timm_model.blocks.0.attn.qkv.weight"
        let raw = try checkpoint.view(key).uint16Values().map { Float(bitPattern: UInt32($0) << 16) }
        #expect(try checkpoint.tensor(key).storage == raw)
        #expect(checkpoint.info(key)?.shape == [3 * v.embedDim, v.embedDim])
    }

    @Test func specsOfTheTwoForms() throws {
        let (_, s1) = try GARConfig.load(Self.fixtures.appendingPathComponent("gar-tiny").path)
        #expect(s1.vision.classToken && s1.vision.ropeGridOffset == 1 && s1.text.tieWordEmbeddings)
        #expect(s1.cropTokenIds == [1204, 1205, 1208, 1210, 1211] && s1.imageTokenId == 1202)
        let (_, s8) = try GARConfig.load(Self.fixtures.appendingPathComponent("gar-tiny-8bform").path)
        #expect(!s8.vision.classToken && s8.vision.ropeGridOffset == 0 && !s8.text.tieWordEmbeddings)
        #expect(s8.vision.architecture == "vit_pe_core_gigantic_patch14_448")
        let pre = try PreprocessorConfig.load(Self.fixtures.appendingPathComponent("gar-tiny").path)
        #expect(pre.tileSize == 448 && pre.visionInputType == "thumb+tile")
        let gen = try GenerationConfig.loadIfPresent(Self.fixtures.appendingPathComponent("gar-tiny").path)
        #expect(gen?.eosTokenIds == [1201, 1209])
    }
}
