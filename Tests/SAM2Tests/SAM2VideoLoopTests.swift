// SAM 2.1 video propagation (`SAM2VideoPredictor.track`) against transformers 4.56.2's
// `Sam2VideoModel` + inference session, frame by frame (Tests/Fixtures/goldens/sam2/video, cases
// "a" and "b", written by Tests/Fixtures/generate/generate_sam2_video.py with the call sequence
// `track` reproduces). The committed tiny checkpoint holds the full model; the hiera-tiny-shaped
// set (`generate_sam2_video.py --size hiera-tiny --out DIR`, not committed) runs when
// GAR_SAM2_VIDEO_HIERA_TINY=DIR is set.
//
// Compared for every (frame, object): the low-res logits (`pred_masks`), the object score and the
// visible flag, and the binary mask at the frame size (identical, except a pixel whose reference
// logit sits at 0).
import Checkpoints
import Foundation
import JSONCore
@testable import SAM2
import Tensors
import Testing

struct VideoGoldenSet: Sendable, CustomStringConvertible {
    let root: URL
    let checkpointName: String, goldenName: String
    /// Relative tolerance of the logits (of each (frame, object)'s max |logit|) and of the object scores (of max(1, |score|)).
    let rel: Float

    var description: String { checkpointName }
    var checkpoint: String { root.appendingPathComponent(checkpointName).path }

    static let tiny = VideoGoldenSet(root: GoldenSet.tiny.root, checkpointName: "sam2video-tiny", goldenName: "video", rel: 1e-5)
    static let hieraTiny: VideoGoldenSet? = ProcessInfo.processInfo.environment["GAR_SAM2_VIDEO_HIERA_TINY"].map {
        VideoGoldenSet(root: URL(fileURLWithPath: $0), checkpointName: "sam2video-hiera-tiny", goldenName: "video-hiera-tiny", rel: 1e-3)
    }
    static var cases: [(VideoGoldenSet, String)] { ([tiny] + (hieraTiny.map { [$0] } ?? [])).flatMap { set in ["a", "b"].map { (set, $0) } } }
}

func member(_ v: JSONValue?, _ key: String) -> JSONValue? {
    guard case let .object(members)? = v else { return nil }
    return members.first { $0.0 == key }?.1
}

func items(_ v: JSONValue?) -> [JSONValue] {
    guard case let .array(a)? = v else { return [] }
    return a
}

@Suite(.serialized) struct SAM2VideoLoopTests {
    @Test(arguments: VideoGoldenSet.cases) func propagationMatches(_ set: VideoGoldenSet, _ name: String) throws {
        let predictor = try SAM2VideoPredictor.load(directory: set.checkpoint)
        let (manifest, g) = try GoldenSet(root: set.root, checkpointName: set.checkpointName, rel: set.rel).golden(set.goldenName)
        let inputs = manifest["inputs"], spec = member(manifest["cases"], name)
        let F = Int(number(member(inputs, "frames"))!), H = Int(number(member(inputs, "height"))!), W = Int(number(member(inputs, "width"))!)
        let bytes = try g.view("frames").uint8Values()
        let frames = (0 ..< F).map { ImageU8(width: W, height: H, channels: 3, pixels: Array(bytes[$0 * H * W * 3 ..< ($0 + 1) * H * W * 3])) }

        var prompts: [SAM2ObjectPrompt] = [], objects: [Int] = []
        for p in items(member(spec, "prompts")) {
            let frame = Int(number(member(p, "frame"))!), object = Int(number(member(p, "obj_id"))!)
            guard case let .string(kind)? = member(p, "kind") else { Issue.record("prompt kind"); return }
            let value = member(p, "value")
            let prompt: SAM2Prompt
            switch kind {
            case "box":
                let b = numbers(value).map { Float($0) }
                prompt = .box(x1: b[0], y1: b[1], x2: b[2], y2: b[3])
            case "points":
                let parts = items(value), labels = numbers(parts[1])
                prompt = .points(items(parts[0]).enumerated().map { i, xy in
                    let c = numbers(xy)
                    return (x: Float(c[0]), y: Float(c[1]), label: Int(labels[i]))
                })
            default:
                prompt = .mask(try g.view("\(name).prompt_mask").uint8Values())
            }
            prompts.append(SAM2ObjectPrompt(object: object, frame: frame, prompt: prompt))
            if !objects.contains(object) { objects.append(object) }
        }

        var requested: [Int] = [], outputs: [[Int]: SAM2FrameOutput] = [:], progress: [Int] = []
        try predictor.track(frameCount: F, width: W, height: H, prompts: prompts, frame: { requested.append($0); return frames[$0] },
                            progress: { done, total in progress.append(done); #expect(total == F + Set(prompts.map(\.frame)).count) },
                            output: { out in
                                #expect(outputs[[out.frame, out.object]] == nil, "(\(out.frame), \(out.object)) output twice")
                                outputs[[out.frame, out.object]] = out
                            })
        #expect(outputs.count == F * objects.count)
        // Frames are read when processed: prompted frames, the forward pass, the backward pass.
        let promptFrames = Array(Set(prompts.map(\.frame))).sorted(), first = promptFrames[0]
        let expectedOrder = promptFrames + Array(first ..< F).filter { t in objects.contains { o in !prompts.contains { $0.frame == t && $0.object == o } } }
            + Array((0 ..< first).reversed())
        #expect(requested == expectedOrder)
        #expect(progress == Array(1 ... F + promptFrames.count))

        // The generator scales the object-score head's output layer (×32): its error grows with it.
        let headScale = Float(max(1, abs(number(member(manifest["object_score_head"], "scale")) ?? 1)))
        let refScores = try g.view("\(name).object_score_logits").tensor().storage  // [frame][object]
        let pixels = items(member(spec, "mask_pixels")).map { numbers($0) }
        var report: [String] = [], worstScore: Float = 0, worstLogit: Float = 0, flipped = 0, occluded = 0
        for t in 0 ..< F {
            let outs = objects.map { outputs[[t, $0]]! }
            let refLogits = try g.view("\(name).frame\(t).pred_masks").tensor()
            let L2 = refLogits.count / objects.count
            for (i, out) in outs.enumerated() {  // per object: an absent one's −1024 must not widen the tolerance
                let (err, scale) = maxError(out.lowResLogits.storage, Array(refLogits.storage[i * L2 ..< (i + 1) * L2]))
                worstLogit = max(worstLogit, err / scale)
                #expect(err <= set.rel * scale, "frame \(t) object \(i): logits max |Δ| \(err) of \(scale)")
            }
            let refUp = SAM2Processing.upscale(refLogits.reshaped([objects.count, refLogits.count / objects.count]), width: W, height: H)
            let refMasks = SAM2Processing.binarize(refUp)
            for (i, out) in outs.enumerated() {
                let ref = refScores[t * objects.count + i]
                worstScore = max(worstScore, abs(out.objectScoreLogit - ref) / max(1, abs(ref)))
                #expect(abs(out.objectScoreLogit - ref) <= set.rel * headScale * max(1, abs(ref)),
                        "frame \(t) object \(i): score \(out.objectScoreLogit) vs \(ref)")
                #expect(out.visible == (ref > 0))
                if !out.visible { occluded += 1 }
                #expect(Double(refMasks[i].reduce(0) { $0 + Int($1) }) == pixels[t][i], "reference binarisation of frame \(t) object \(i)")
                for p in 0 ..< W * H where out.mask[p] != refMasks[i][p] {
                    flipped += 1
                    #expect(abs(refUp.storage[i * W * H + p]) < 1e-3, "frame \(t) object \(i) pixel \(p): mask differs at logit \(refUp.storage[i * W * H + p])")
                }
            }
        }
        // The committed cases cover occlusion: some (frame, object) pairs are not visible, others are
        // (the hiera-tiny-shaped run has one occluded pair, in case b).
        if set.checkpointName == VideoGoldenSet.tiny.checkpointName { #expect(occluded > 0 && occluded < F * objects.count) }
        report.append("logits: max |Δ| / max |ref| per (frame, object) \(worstLogit); object scores: max |Δ| / max(1, |ref|) \(worstScore); \(occluded) of \(F * objects.count) (frame, object) not visible; \(flipped) mask pixels differ")
        print("[video propagation \(set) case \(name)]\n" + report.joined(separator: "\n"))
    }

    /// Pruning the bank keeps every memory and pointer a later frame reads: along a forward pass
    /// from frame 12 of 30 and the backward pass, the bank built from the pruned tracked frames
    /// equals the one built from all of them, and at most a fixed number of frames is kept.
    @Test func boundedMemoryKeepsWhatIsRead() throws {
        let v = try SAM2VideoComponents.load(directory: VideoGoldenSet.tiny.checkpoint)
        let F = 30, first = 12, M = v.pointers.memoryWidth
        let session = SAM2VideoPredictor.Session(frameCount: F, width: 4, height: 4, first: first)
        func memory(_ t: Int) -> SAM2FrameMemory {
            SAM2FrameMemory(features: Tensor(shape: [2, M], repeating: Float(t)), positional: Tensor(shape: [2, M], repeating: 0.5),
                            pointer: Tensor(shape: [v.config.memoryAttentionHiddenSize], repeating: Float(-t)))
        }
        var pruned = ObjectTrack(), all: [Int: SAM2FrameMemory] = [:]
        pruned.conditioning = [(first, memory(first))]
        var most = 0
        for (frames, reverse) in [(Array(first + 1 ..< F), false), (Array((0 ..< first).reversed()), true)] {
            for t in frames {
                let a = v.memoryBank(frame: t, reverse: reverse, numFrames: F, conditioning: pruned.conditioning, tracked: pruned.tracked)
                let b = v.memoryBank(frame: t, reverse: reverse, numFrames: F, conditioning: pruned.conditioning, tracked: all)
                #expect(a.memory.storage == b.memory.storage && a.positional.storage == b.positional.storage && a.pointerTokens == b.pointerTokens,
                        "frame \(t)\(reverse ? " backward" : "")")
                pruned.tracked[t] = memory(t)
                all[t] = memory(t)
                pruned.forget(after: t, reverse: reverse, session: session, config: v.config)
                most = max(most, pruned.tracked.count)
            }
        }
        // Pointers of the last 15 frames of the pass plus the 15 first forward frames the backward pass reads.
        #expect(most <= 2 * (v.config.maxObjectPointersInEncoder - 1))
        #expect(pruned.tracked.values.filter { $0.features.count > 0 }.count <= 2 * (v.config.numMaskmem - 1))
    }

    @Test func badPromptsAreRefusedBeforeAnyFrameIsRead() throws {
        let predictor = try SAM2VideoPredictor.load(directory: VideoGoldenSet.tiny.checkpoint)
        let W = 8, H = 6
        let cases: [(SAM2ObjectPrompt, String)] = [
            (SAM2ObjectPrompt(object: 1, frame: 5, prompt: .box(x1: 1, y1: 1, x2: 4, y2: 4)), "frame 5 is outside the video's frames 0–3"),
            (SAM2ObjectPrompt(object: 1, frame: 0, prompt: .box(x1: 1, y1: 1, x2: 40, y2: 4)), "is empty or outside the 8×6 frame"),
            (SAM2ObjectPrompt(object: 1, frame: 0, prompt: .box(x1: 3, y1: 1, x2: 2, y2: 4)), "is empty or outside the 8×6 frame"),
            (SAM2ObjectPrompt(object: 1, frame: 0, prompt: .mask([UInt8](repeating: 1, count: 7))), "mask has 7 bytes, expected 8×6 = 48"),
            (SAM2ObjectPrompt(object: 1, frame: 0, prompt: .mask([UInt8](repeating: 0, count: 48))), "mask is empty"),
            (SAM2ObjectPrompt(object: 1, frame: 0, prompt: .points([])), "no clicks"),
            (SAM2ObjectPrompt(object: 1, frame: 0, prompt: .points([(x: 9, y: 1, label: 1)])), "is outside the 8×6 frame"),
            (SAM2ObjectPrompt(object: 1, frame: 0, prompt: .points([(x: 1, y: 1, label: 2)])), "click label 2"),
        ]
        for (prompt, message) in cases {
            var read = false
            do {
                try predictor.track(frameCount: 4, width: W, height: H, prompts: [prompt], frame: { _ in read = true; throw SAM2Error.invalidInput("read") },
                                    output: { _ in Issue.record("output for a bad prompt") })
                Issue.record("accepted: \(message)")
            } catch let error as SAM2Error {
                #expect(error.description.contains(message), "\(error)")
                #expect(!error.description.contains("\n"))
            }
            #expect(!read)
        }
        let twice = [SAM2ObjectPrompt(object: 1, frame: 0, prompt: .box(x1: 1, y1: 1, x2: 4, y2: 4)),
                     SAM2ObjectPrompt(object: 1, frame: 0, prompt: .points([(x: 1, y: 1, label: 1)]))]
        #expect(throws: SAM2Error.self) { try predictor.track(frameCount: 4, width: W, height: H, prompts: twice, frame: { _ in throw SAM2Error.invalidInput("read") }, output: { _ in }) }
        #expect(throws: SAM2Error.self) { try predictor.track(frameCount: 4, width: W, height: H, prompts: [], frame: { _ in throw SAM2Error.invalidInput("read") }, output: { _ in }) }
        // A frame of the wrong size is refused when it is read.
        let ok = SAM2ObjectPrompt(object: 1, frame: 0, prompt: .box(x1: 1, y1: 1, x2: 4, y2: 4))
        #expect(throws: SAM2Error.invalidInput("frame 0 is 3×3×3, expected RGB 8×6")) {
            try predictor.track(frameCount: 4, width: W, height: H, prompts: [ok],
                                frame: { _ in ImageU8(width: 3, height: 3, channels: 3, pixels: [UInt8](repeating: 0, count: 27)) }, output: { _ in })
        }
    }

    @Test func imageOnlyCheckpointIsRefusedInOneLine() {
        do {
            _ = try SAM2VideoPredictor.load(directory: SAM2Fixtures.checkpoint)  // sam2-tiny: image mode only
            Issue.record("an image-only checkpoint was accepted for video")
        } catch {
            let text = "\(error)"
            print("[image-only checkpoint] \(text)")
            #expect(!text.contains("\n") && text.contains("sam2-tiny/config.json") && text.contains("needs a sam2_video checkpoint"))
        }
    }

    @Test func antialiasedResizeAveragesAndKeepsConstants() {
        // ×1/4 of a constant plane is the constant; of a 0/1 step it averages the 4-wide (+ tails) window.
        let constant = resizeBilinearAntialias([Float](repeating: 3, count: 64), width: 8, height: 8, toWidth: 2, toHeight: 2)
        #expect(constant.allSatisfy { abs($0 - 3) < 1e-6 })
        let step = resizeBilinearAntialias((0 ..< 8).map { Float($0 < 4 ? 0 : 1) }, width: 8, height: 1, toWidth: 2, toHeight: 1)
        #expect(step[0] < 0.2 && step[1] > 0.8)
        // Upsampling is plain bilinear (align_corners = False): 0, 1 → 0, 0.25, 0.75, 1.
        #expect(resizeBilinearAntialias([0, 1], width: 2, height: 1, toWidth: 4, toHeight: 1) == [0, 0.25, 0.75, 1])
    }
}
