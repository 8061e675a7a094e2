// The request API: bad inputs give one clear line each; invariances that need no golden (chunked
// prefill = one pass, cached decode = recompute, threads = 1 vs N, seeded sampling repeats); the
// feature cache; the non-default replay options; streaming.
import Foundation
@testable import Models
import Tensors
import Testing

@Suite(.serialized) struct SessionTests {
    static func caseA() throws -> (GARModel, ImageU8, ImageU8) {
        let model = try Fixtures.model("gar-tiny")
        return (model, try Fixtures.image("images/a_rgb_640x320.png"), try Fixtures.mask("images/a_mask.png"))
    }

    static func options(_ n: Int) -> RequestOptions {
        var o = RequestOptions()
        o.generation.maxNewTokens = n
        return o
    }

    // MARK: bad input

    @Test func maskOfAnotherSizeNamesBothSizes() throws {
        let (model, image, _) = try SessionTests.caseA()
        let mask = ImageU8(width: 320, height: 160, channels: 1, pixels: [UInt8](repeating: 1, count: 320 * 160))
        let session = GARSession(model: model)
        #expect(throws: ModelError.self) { try session.describe(image: image, mask: mask, options: SessionTests.options(2)) }
        do { _ = try session.describe(image: image, mask: mask) } catch {
            #expect("\(error)" == "the mask is 320×160 but the image is 640×320")
        }
    }

    @Test func emptyMask() throws {
        let (model, image, _) = try SessionTests.caseA()
        let empty = ImageU8(width: 640, height: 320, channels: 1, pixels: [UInt8](repeating: 0, count: 640 * 320))
        let session = GARSession(model: model)
        do { _ = try session.describe(image: image, mask: empty); Issue.record("no error") } catch {
            #expect("\(error)" == "the mask is empty (no pixel is set), so the region has no box")
        }
        do { _ = try session.ask(image: image, masks: [try Fixtures.mask("images/a_mask.png"), empty], question: "<Prompt0> <Prompt1>"); Issue.record("no error") } catch {
            #expect("\(error)".hasPrefix("mask 1 (<Prompt1>) is empty"))
        }
    }

    @Test func tooManyRegionsAndUnknownRegion() throws {
        let (model, image, mask) = try SessionTests.caseA()
        let session = GARSession(model: model)
        do { _ = try session.ask(image: image, masks: Array(repeating: mask, count: 6), question: "?"); Issue.record("no error") } catch {
            #expect("\(error)" == "6 regions given, but the model has prompt tokens for at most 5")
        }
        do { _ = try session.ask(image: image, masks: [mask, mask], question: "Is <Prompt0> left of <Prompt2>?"); Issue.record("no error") } catch {
            #expect("\(error)" == "the question names <Prompt2>, but only <Prompt0>…<Prompt1> have masks")
        }
        do { _ = try session.ask(image: image, masks: [mask], question: "What about <Prompt1>?"); Issue.record("no error") } catch {
            #expect("\(error)" == "the question names <Prompt1>, but only <Prompt0> has a mask")
        }
    }

    @Test func reservedTokensInTheQuestion() throws {
        let (model, image, mask) = try SessionTests.caseA()
        let session = GARSession(model: model)
        do { _ = try session.ask(image: image, masks: [mask], question: "what is <|image|> here?"); Issue.record("no error") } catch {
            #expect("\(error)".contains("<|image|>"))
        }
    }

    @Test func badGenerationOptions() throws {
        let (model, image, mask) = try SessionTests.caseA()
        let session = GARSession(model: model)
        var o = SessionTests.options(0)
        #expect(throws: ModelError.self) { try session.describe(image: image, mask: mask, options: o) }
        o.generation.maxNewTokens = 4
        o.generation.topP = 0
        #expect(throws: ModelError.self) { try session.describe(image: image, mask: mask, options: o) }
        o.generation.topP = 1
        o.generation.maxNewTokens = 20_000   // beyond max_position_embeddings 11520
        do { _ = try session.describe(image: image, mask: mask, options: o); Issue.record("no error") } catch {
            #expect("\(error)".contains("more than the model's 11520"))
        }
    }

    @Test func videoInputChecks() throws {
        let (model, image, mask) = try SessionTests.caseA()
        let session = GARSession(model: model)
        #expect(throws: ModelError.self) { try session.askVideo(frames: [], masks: [[]], question: "?") }
        #expect(throws: ModelError.self) { try session.askVideo(frames: [image, image], masks: [[mask]], question: "?") }
    }

    // MARK: invariances

    /// Prefill in chunks of 100 rows (several causal-offset attention calls, widened weights per
    /// chunk) gives the logits of one pass to f32 rounding, and the same greedy tokens.
    @Test func chunkedPrefillEqualsOnePass() throws {
        let (model, image, mask) = try SessionTests.caseA()
        let session = GARSession(model: model)
        var one = SessionTests.options(12)
        var chunked = one
        chunked.prefillChunk = 100
        one.prefillChunk = 4096
        let r1 = ActivationRecorder(filter: { $0.hasPrefix("logits.") }), r2 = ActivationRecorder(filter: { $0.hasPrefix("logits.") })
        let a = try session.describe(image: image, mask: mask, options: one, tap: r1)
        let b = try session.describe(image: image, mask: mask, options: chunked, tap: r2)
        #expect(a.tokenIDs == b.tokenIDs)
        let (d, s) = maxAbsDiff(r1["logits.step0"]!, r2["logits.step0"]!)
        #expect(d <= 1e-5 * s, "max |Δ| \(d) of \(s)")   // same math, different GEMM shapes
    }

    /// Decoding with the KV cache equals recomputing the whole sequence from scratch.
    @Test func cachedDecodeEqualsRecompute() throws {
        let model = try Fixtures.model("gar-tiny")
        var r = TestRandom(5)
        let ids = (0 ..< 40).map { _ in r.int(model.spec.text.vocabSize) }
        let state = model.makeDecoderState(capacity: 40)
        var cached: [Float] = model.forward(model.embed(Array(ids.prefix(30))), rows: 30, state: state)
        for i in 30 ..< 40 { cached = model.forward(model.embed([ids[i]]), rows: 1, state: state) }
        let full = model.forward(model.embed(ids), rows: 40, state: model.makeDecoderState(capacity: 40))
        let (d, s) = maxAbsDiff(cached, full)
        #expect(d <= 1e-5 * s, "max |Δ| \(d) of \(s)")
    }

    /// One thread or all: the same tokens and logits within f32 summation-order noise.
    @Test func threadCountDoesNotChangeTheAnswer() throws {
        let (model, image, mask) = try SessionTests.caseA()
        let session = GARSession(model: model)
        let r1 = ActivationRecorder(filter: { $0 == "logits.step0" })
        let a = try Threading.withCount(1) { try session.describe(image: image, mask: mask, options: SessionTests.options(10), tap: r1) }
        let r2 = ActivationRecorder(filter: { $0 == "logits.step0" })
        let b = try Threading.withCount(max(2, Threading.count)) {
            try session.describe(image: image, mask: mask, options: SessionTests.options(10), tap: r2)
        }
        #expect(a.tokenIDs == b.tokenIDs)
        let (d, s) = maxAbsDiff(r1["logits.step0"]!, r2["logits.step0"]!)
        #expect(d <= 1e-5 * s)
    }

    /// Seeded sampling: the same seed gives the same tokens; another seed (almost surely) other ones;
    /// temperature → greedy limit; stop ids end generation and are kept.
    @Test func samplingIsSeeded() throws {
        let (model, image, mask) = try SessionTests.caseA()
        let session = GARSession(model: model)
        var o = SessionTests.options(16)
        // The tiny model's logits have std ~30 (README of the fixtures): a high temperature makes
        // the distribution wide enough that seeds matter.
        o.generation.temperature = 40
        o.generation.topP = 0.95
        o.generation.seed = 42
        let a = try session.describe(image: image, mask: mask, options: o)
        let b = try session.describe(image: image, mask: mask, options: o)
        o.generation.seed = 43
        let c = try session.describe(image: image, mask: mask, options: o)
        #expect(a.tokenIDs == b.tokenIDs && a.text == b.text)
        #expect(a.tokenIDs != c.tokenIDs)
        var greedy = SessionTests.options(16)
        let g = try session.describe(image: image, mask: mask, options: greedy)
        o.generation.temperature = 1e-4
        o.generation.topP = 1
        let cold = try session.describe(image: image, mask: mask, options: o)
        #expect(cold.tokenIDs == g.tokenIDs)
        greedy.generation.stopTokenIDs = [g.tokenIDs[3]]
        let stopped = try session.describe(image: image, mask: mask, options: greedy)
        #expect(stopped.tokenIDs == Array(g.tokenIDs.prefix(4)) && stopped.stoppedOnStopToken)
    }

    /// Top-p keeps the smallest most-probable set reaching p: with p tiny only the argmax is left.
    @Test func topPTinyIsGreedy() throws {
        var r = TestRandom(3)
        let logits = r.floats(500).map { $0 * 10 }
        var sampler = Sampler(options: GenerationOptions(temperature: 1, topP: 1e-6, seed: 1), vocabulary: 500)
        let pick = logits.withUnsafeBufferPointer { sampler.next($0) }
        #expect(pick == GARModel.argmax(logits))
    }

    /// The streamed pieces concatenate to the final text.
    @Test func streamingPiecesFormTheText() throws {
        let (model, image, mask) = try SessionTests.caseA()
        let session = GARSession(model: model)
        var pieces = "", count = 0
        let result = try session.describe(image: image, mask: mask, options: SessionTests.options(32)) { token in
            pieces += token.text
            if token.id >= 0 { count += 1 }
        }
        #expect(count == result.tokenIDs.count)
        #expect(pieces == result.text)
    }

    // MARK: cache and options

    @Test func featureCacheSkipsTheTower() throws {
        let (model, image, mask) = try SessionTests.caseA()
        let cache = FeatureCache()
        let session = GARSession(model: model, featureCache: cache)
        var o = SessionTests.options(6)
        o.featureKey = "a.png#a_mask"
        let first = try session.describe(image: image, mask: mask, options: o)
        let second = try session.ask(image: image, masks: [mask], question: "What is <Prompt0>?", options: o)
        #expect(first.tilesEncoded == 3 && second.tilesEncoded == 0)
        #expect(session.tilesEncodedTotal == 3)
        #expect(cache.statistics.hits == 1)
        // Same answer as without the cache.
        let plain = try GARSession(model: model).ask(image: image, masks: [mask], question: "What is <Prompt0>?", options: SessionTests.options(6))
        #expect(plain.tokenIDs == second.tokenIDs)
    }

    @Test func videoFrameCacheEncodesOnlyNewFrames() throws {
        let model = try Fixtures.model("gar-tiny")
        let frames = try (0 ..< 4).map { try Fixtures.image(String(format: "images/f_video/frames/frame_%03d.png", $0)) }
        let masks: [[ImageU8?]] = try [(0 ..< 4).map { try Fixtures.mask(String(format: "images/f_video/masks/region0_frame_%03d.png", $0)) }]
        let session = GARSession(model: model, featureCache: FeatureCache())
        var o = SessionTests.options(4)
        o.frameKeys = (0 ..< 4).map { "clip#\($0)#r0" }
        let a = try session.askVideo(frames: Array(frames[0 ..< 2]), masks: [Array(masks[0][0 ..< 2])], question: "<Prompt0>?",
                                     options: { var p = o; p.frameKeys = Array(o.frameKeys![0 ..< 2]); return p }())
        let b = try session.askVideo(frames: frames, masks: masks, question: "What does <Prompt0> do?", options: o)
        #expect(a.tilesEncoded == 2 && b.tilesEncoded == 2)
        let plain = try GARSession(model: model).askVideo(frames: frames, masks: masks, question: "What does <Prompt0> do?", options: SessionTests.options(4))
        #expect(plain.tokenIDs == b.tokenIDs)
    }

    /// Non-default replay options change the replayed vectors, and only them.
    @Test func replayOptions() throws {
        let model = try Fixtures.model("gar-tiny")
        let image = try Fixtures.image("images/d_rgb_256x192.png")
        let masks = try (0 ..< 3).map { try Fixtures.mask("images/d_mask\($0).png") }
        let session = GARSession(model: model)
        let q = "Is <Prompt0> touching <Prompt2>?"
        let reference = try session.prepareAsk(image: image, masks: masks, question: q)
        #expect(Set(reference.boxes).count == 1)                 // the quirk: the last mask's box for all
        var o = RequestOptions()
        o.replay.perRegionBoxes = true
        let own = try session.prepareAsk(image: image, masks: masks, question: q, options: o)
        #expect(Set(own.boxes).count == 3 && own.boxes[2] == reference.boxes[2])
        // Corrected scaling samples inside the region's cells: RoI box in feature units, scale 1.
        let box = own.boxes[0]
        let (quirk, s) = GARModel.roiBox(box, height: 32, width: 32, corrected: false)
        let (fixed, one) = GARModel.roiBox(box, height: 32, width: 32, corrected: true)
        #expect(quirk == fixed && abs(s - 1.0 / 28) < 1e-9 && one == 1)
        let r1 = ActivationRecorder(filter: { $0.hasPrefix("replay.0.features") })
        let r2 = ActivationRecorder(filter: { $0.hasPrefix("replay.0.features") })
        var oc = SessionTests.options(1)
        oc.replay.correctedBoxScaling = true
        _ = try session.run(reference, options: SessionTests.options(1), tap: r1)
        _ = try session.run(reference, options: oc, tap: r2)
        #expect(r1["replay.0.features"]! != r2["replay.0.features"]!)
    }
}

