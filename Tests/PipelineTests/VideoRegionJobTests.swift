// The video region job in-process with the tiny checkpoint: parity with the reference video
// golden through the annotation path, the prompt template, the feature cache (a second question
// on the same clip does not run the vision tower), tracking on a sample clip, frame planning,
// and the bad inputs of issue 6 (each a one-line error naming the input).
import Foundation
import Models
import Testing
import Tracking
import Video
@testable import Pipeline

@Suite(.serialized) struct VideoRegionJobTests {
    static let model = Repo.path("Tests/Fixtures/gar-tiny")
    static let fVideo = Repo.path("Tests/Fixtures/images/f_video")
    static let fQuestion = "What does <Prompt0> do while <Prompt1> disappears?"

    static func golden(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Repo.path("Tests/Fixtures/goldens/\(name)/manifest.json")))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func annotationRequest(maxNewTokens: Int = 32) -> RegionRequest {
        var spec = PipelineSpec.builtIn(.temporalQA)
        spec.generation.maxNewTokens = maxNewTokens
        var r = RegionRequest(input: fVideo + "/frames", spec: spec)
        r.annotationPath = fVideo + "/annotation.json"
        r.modelDirectory = model
        r.questions = [VideoQuestion(fQuestion)]
        return r
    }

    /// Frames folder + VideoRefer-style annotation → the reference's greedy tokens for golden f
    /// (4 frames × 2 regions, region 1 absent on frame 2), through the whole pipeline path.
    @Test func annotationPathMatchesTheVideoGolden() throws {
        let expected = try #require(try Self.golden("f_video_two_regions")["expected"] as? [String: Any])
        let answer = try VideoRegionJob.run(Self.annotationRequest())
        #expect(answer.tokenIds == expected["generated_ids"] as? [Int])
        #expect(answer.text == expected["text"] as? String)
        #expect(answer.promptTokens == expected["prompt_tokens"] as? Int)
        #expect(answer.maskSource == "annotation" && answer.trackedFrames == 0)
        #expect(answer.frames.map(\.index) == [0, 1, 2, 3])
        #expect(answer.frames.allSatisfy { $0.pts == nil }, "a folder without a frame rate has no times")
        let visible = answer.regions.map { $0.frames.map(\.visible) }
        #expect(visible == expected["visible"] as? [[Bool]])
        // The RLE in the answer is the annotation's mask, re-encoded.
        let ann = try RegionAnnotation.load(Self.fVideo + "/annotation.json")
        for (k, region) in answer.regions.enumerated() {
            for f in region.frames {
                let given = ann.mask(region: k, frame: f.index)
                #expect(f.rle.map { try? RLE(height: $0.size[0], width: $0.size[1], compressed: $0.counts).mask() } ?? nil == given)
            }
        }
    }

    /// The v1 template reproduces PromptBuilder.video exactly; another template changes the text
    /// and its spans still point at the crop tokens.
    @Test func templateIsData() throws {
        let m = try GARModel.load(directory: Self.model)
        let visible = [[true, false, true], [false, true, true]]
        let q = "Is <Prompt0> left of <Prompt1>?"
        let builtIn = try m.prompts.video(frames: 3, visible: visible, question: q)
        let templated = try m.prompts.video(frames: 3, visible: visible, question: q, template: .v1)
        #expect(builtIn == templated)
        let custom = VideoPromptTemplate(text: "Regions: {regions}.\n{region_lines}Q: {question}", regionName: "<Prompt{k}>",
                                         regionSeparator: ", ", regionLine: "{crops} is <Prompt{k}>\n")
        let other = try m.prompts.video(frames: 3, visible: visible, question: q, template: custom)
        #expect(other.ids != builtIn.ids)
        #expect(other.userText.hasPrefix("Regions: <Prompt0>, <Prompt1>.\n"))
        #expect(other.spans.map(\.region) == [0, 0, 1, 1] && other.spans.map(\.frame) == [0, 2, 1, 2])
        for s in other.spans {
            #expect(other.ids[s.start ..< s.start + m.tokensPerTile].allSatisfy { $0 == m.spec.cropTokenIds[s.region] })
        }
        #expect(other.ids.filter { m.spec.cropTokenIds.contains($0) }.count == 4 * m.tokensPerTile)
        #expect(throws: ModelError.self) {
            try m.prompts.video(frames: 1, visible: [[true]], question: q,
                                template: VideoPromptTemplate(text: "{question}", regionName: "", regionSeparator: "", regionLine: "{crops}"))
        }
    }

    /// Issue 6 item 5: features are computed once per frame and reused by later questions on the
    /// same clip (cache keyed by input + frame + union mask). Counted with the session's tower counter.
    @Test func secondQuestionReusesTheVisionFeatures() throws {
        let engine = try VideoRegionEngine(modelDirectory: Self.model)
        var r = Self.annotationRequest(maxNewTokens: 4)
        r.questions = [VideoQuestion(Self.fQuestion), VideoQuestion("Where is <Prompt1> at the end?")]
        let a = try VideoRegionJob.run(r, engine: engine)
        #expect(a.answers.map(\.framesEncoded) == [4, 0])
        #expect(engine.session.tilesEncodedTotal == 4)
        // A later request on the same clip and masks: still no tower run.
        r.questions = [VideoQuestion("What is <Prompt0>?")]
        let b = try VideoRegionJob.run(r, engine: engine)
        #expect(b.answers[0].framesEncoded == 0 && engine.session.tilesEncodedTotal == 4)
        #expect(b.timings.load == 0, "the model load is reported once")
        // Different masks on the same frames (region 1 only) are different union masks: re-encoded.
        var ann = try RegionAnnotation.load(Self.fVideo + "/annotation.json")
        ann.regions = [ann.regions[1]]
        r.annotationPath = nil
        r.annotation = ann
        r.spec.frames.fromAnnotation = false
        let c = try VideoRegionJob.run(r, engine: engine)
        #expect(c.answers[0].framesEncoded == 4 && engine.session.tilesEncodedTotal == 8)
        // The cached features give the same answer as fresh ones.
        let fresh = try VideoRegionJob.run(Self.annotationRequest(maxNewTokens: 4))
        #expect(fresh.tokenIds == a.tokenIds)
    }

    /// Tracking on ball.mp4 from the frame-0 mask: 8 PLM-uniform frames, masks on each that follow
    /// the ball (moving right), confidence 1 on the prompted frame. Tracked at 320×180 (a quarter
    /// of the pixels, for test time), so masks are scaled back to 640×360 and the model's frames
    /// come from a second, full-size decode. (The default 854 path runs in the CLI end-to-end test.)
    @Test func tracksTheBallAndSamplesUniformly() throws {
        var spec = PipelineSpec.builtIn(.captionTrackedObject)
        spec.generation.maxNewTokens = 4
        spec.tracker.maxSide = 320
        var r = RegionRequest(input: Repo.path("samples/clips/ball.mp4"), spec: spec)
        r.modelDirectory = Self.model
        r.regions = [try RegionInputs.parseRegion("mask=\(Repo.path("samples/masks/ball_f0.png"))", index: 0)]
        let a = try VideoRegionJob.run(r)
        #expect(a.frames.map(\.index) == FrameSelection.uniformPLM(total: 100, count: 8))
        #expect(a.frames.map(\.pts) == a.frames.map { Double($0.index) / 25 })
        #expect(a.source.kind == "video" && a.source.frameCount == 100 && a.source.width == 640 && a.source.height == 360)
        let tracked = Set(stride(from: 0, to: 100, by: 2)).union(a.frames.map(\.index))   // 15 fps of 25: every 2nd
        #expect(a.trackedFrames == tracked.count)
        #expect(a.maskSource == "tracker" && a.answers.count == 1 && a.answers[0].question == "Describe this masked region in detail.")
        let frames = a.regions[0].frames
        #expect(frames[0].confidence == 1 && frames.allSatisfy { $0.confidence >= 0 && $0.confidence <= 1 })
        #expect(frames.allSatisfy { $0.visible && !$0.lost && $0.rle?.size == [360, 640] })
        // The ball (a disc of radius 40, 80 px wide) moves right: box centres increase, sizes stay near 81.
        let centres = frames.compactMap { $0.bbox.map { Double($0[0]) + Double($0[2]) / 2 } }
        #expect(centres.count == 8 && zip(centres, centres.dropFirst()).allSatisfy { $0 < $1 })
        #expect(frames.dropLast().allSatisfy { ($0.bbox?[3] ?? 0) >= 70 && ($0.bbox?[3] ?? 0) <= 92 })
        // Frame 0's mask is the prompt mask, through the 320×180 tracking size and back: IoU > 0.95
        // (a disc of radius 40 loses at most a one-pixel ring to the two nearest resizes).
        let prompt = try ImageIO.readLabels(Repo.path("samples/masks/ball_f0.png"))
        let m0 = try RLE(height: 360, width: 640, compressed: try #require(frames[0].rle).counts).mask()
        #expect(m0.iou(Mask(width: 640, height: 360, bits: prompt.pixels.map { $0 != 0 ? 1 : 0 })) > 0.95)
    }

    /// A clip longer than tracker.max_frames is tracked more sparsely, with a warning.
    @Test func trackingDensityIsBoundedByMaxFrames() throws {
        var spec = PipelineSpec.builtIn(.captionTrackedObject)
        spec.generation.maxNewTokens = 2
        spec.frames.count = 3
        spec.tracker.maxFrames = 6      // 12 frames, 3 sampled, 1 prompt: room for 2 more → every 6th
        var r = RegionRequest(input: Repo.path("samples/frames/png_seq"), spec: spec)
        r.modelDirectory = Self.model
        r.regions = [try RegionInputs.parseRegion("box=40,40,90,100", index: 0)]
        let a = try VideoRegionJob.run(r)
        #expect(a.frames.map(\.index) == [0, 4, 8])
        #expect(a.trackedFrames == Set([0, 6, 4, 8]).count)
        #expect(a.warnings == ["tracking one frame in 6 instead of one in 1: the clip has 12 frames and tracker.max_frames is 6"])
    }

    @Test func planning() throws {
        #expect(VideoRegionJob.trackingStep(videoFPS: 25, trackerFPS: 15) == 2)
        #expect(VideoRegionJob.trackingStep(videoFPS: 30, trackerFPS: 15) == 2)
        #expect(VideoRegionJob.trackingStep(videoFPS: 10, trackerFPS: 15) == 1)
        #expect(VideoRegionJob.trackingStep(videoFPS: nil, trackerFPS: 15) == 1)
        #expect(VideoRegionJob.trackingStep(videoFPS: 60, trackerFPS: 0) == 1)
        #expect(VideoRegionJob.pick(3, of: [10, 20, 30, 40, 50, 60], rule: .plm) == [10, 30, 50])
        #expect(VideoRegionJob.pick(8, of: [4, 9], rule: .plm) == [4, 9])
        #expect(VideoRegionJob.pick(2, of: [0, 2, 4, 6, 8], rule: .videorefer) == FrameSelection.uniformVideoRefer(total: 5, count: 2).map { $0 * 2 })
    }

    /// Frames that cannot fit the context are dropped (with a warning), or refused without
    /// fit_context. 12 frames × 5 regions need 12·256·6 = 18,432 positions > 11,520.
    @Test func contextFit() throws {
        let m = try GARModel.load(directory: Self.model)
        let q = "What do <Prompt0> and <Prompt4> do?"
        var spec = PipelineSpec.builtIn(.temporalQA)
        spec.generation.maxNewTokens = 2
        spec.frames.count = 12
        let text = try m.prompts.video(frames: 0, visible: [[Bool]](repeating: [], count: 5), question: q, template: .v1).ids.count
        let fit = try VideoRegionJob.framesThatFit(model: m, regions: 5, questions: [q], options: spec.requestOptions)
        #expect(fit == (m.spec.text.maxPositionEmbeddings - 2 - text) / (256 * 6))
        #expect(fit == 7)
        // Five 10×10 boxes on every frame of the 12-frame folder (160×120).
        let dir = Repo.tempDir("fit")
        defer { try? FileManager.default.removeItem(at: dir) }
        var regions: [[String: Any]] = []
        for k in 0 ..< 5 {
            let mask = Mask(width: 160, height: 120) { x, y in x >= 10 + 30 * k && x < 20 + 30 * k && y >= 50 && y < 60 }
            let rle: [String: Any] = ["size": [120, 160], "counts": RLE(mask).compressedString]
            regions.append(Dictionary(uniqueKeysWithValues: (0 ..< 12).map { (String($0), ["segmentation": rle] as [String: Any]) }))
        }
        let ann = dir.appendingPathComponent("ann.json")
        try JSONSerialization.data(withJSONObject: regions).write(to: ann)
        var r = RegionRequest(input: Repo.path("samples/frames/png_seq"), spec: spec)
        r.annotationPath = ann.path
        r.modelDirectory = Self.model
        r.questions = [VideoQuestion(q)]
        let a = try VideoRegionJob.run(r)
        #expect(a.framesRequested == 12 && a.frames.map(\.index) == FrameSelection.uniformPLM(total: 12, count: 7))
        #expect(a.warnings == ["using 7 of the 12 requested frames so that the prompt fits the model's context"])
        #expect(a.promptTokens == text + 7 * 256 * 6)
        r.spec.frames.fitContext = false
        let e = Self.errorText { _ = try VideoRegionJob.run(r) }
        #expect(e == "frames: 12 frames × 5 regions do not fit the model's context (at most 7 frames would; lower frames.count or generation.max_new_tokens)", "\(e)")
    }

    // MARK: bad inputs (each one line naming the input)

    static func errorText(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    @Test func badInputs() throws {
        let engine = try VideoRegionEngine(modelDirectory: Self.model)
        let ball = Repo.path("samples/clips/ball.mp4")
        var spec = PipelineSpec.builtIn(.captionTrackedObject)
        spec.generation.maxNewTokens = 2
        func request(_ input: String, regions: [String]) throws -> RegionRequest {
            var r = RegionRequest(input: input, spec: spec)
            r.regions = try regions.enumerated().map { try RegionInputs.parseRegion($0.element, index: $0.offset) }
            return r
        }
        // Missing video.
        var e = Self.errorText { _ = try VideoRegionJob.run(try request("/nonexistent/clip.mp4", regions: ["box=1,1,9,9"]), engine: engine) }
        #expect(e.hasPrefix("/nonexistent/clip.mp4: "), "\(e)")
        // Mask of the wrong size (a 160×120 mask on a 640×360 clip).
        let small = Repo.path("Tests/Fixtures/images/f_video/masks/region0_frame_000.png")
        e = Self.errorText { _ = try VideoRegionJob.run(try request(ball, regions: ["mask=\(small)"]), engine: engine) }
        #expect(e == "mask \(small) (<Prompt0>): 160×120 does not match the video frames (640×360)", "\(e)")
        // Prompt frame past the end.
        e = Self.errorText { _ = try VideoRegionJob.run(try request(ball, regions: ["box=1,1,9,9 frame=500"]), engine: engine) }
        #expect(e.contains("past the end") && e.contains("100 frames"), "\(e)")
        // Box outside the frame.
        e = Self.errorText { _ = try VideoRegionJob.run(try request(ball, regions: ["box=600,300,700,400"]), engine: engine) }
        #expect(e.contains("<Prompt0>") && !e.contains("\n"), "\(e)")
        // No region at all.
        e = Self.errorText { _ = try VideoRegionJob.run(try request(ball, regions: []), engine: engine) }
        #expect(e.contains("no region given"), "\(e)")
        // A region with no mask on any sampled frame (annotation region 1 only on frame 2, where it is null).
        let dir = Repo.tempDir("noregion")
        defer { try? FileManager.default.removeItem(at: dir) }
        let ann = dir.appendingPathComponent("ann.json")
        let full = try String(contentsOfFile: Self.fVideo + "/annotation.json", encoding: .utf8)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(full.utf8)) as? [[String: Any]])
        try JSONSerialization.data(withJSONObject: [obj[0], ["2": ["segmentation": NSNull()]]]).write(to: ann)
        var r = Self.annotationRequest(maxNewTokens: 2)
        r.annotationPath = ann.path
        e = Self.errorText { _ = try VideoRegionJob.run(r, engine: engine) }
        #expect(e == "region <Prompt1>: no mask on any of the 4 sampled frames (the annotation has no non-empty mask for it on the sampled frames)", "\(e)")
        // The question names a region that has no mask.
        r = Self.annotationRequest(maxNewTokens: 2)
        r.questions = [VideoQuestion("What is <Prompt2>?")]
        e = Self.errorText { _ = try VideoRegionJob.run(r, engine: engine) }
        #expect(e == "the question names <Prompt2>, but only <Prompt0>…<Prompt1> have masks", "\(e)")
        // An annotation whose masks are not the frames' size.
        try JSONSerialization.data(withJSONObject: [["0": ["segmentation": ["size": [10, 10], "counts": [100]]]]]).write(to: ann)
        r = Self.annotationRequest(maxNewTokens: 2)
        r.annotationPath = ann.path
        e = Self.errorText { _ = try VideoRegionJob.run(r, engine: engine) }
        #expect(e == "\(ann.path) region 0 frame 0: mask is 10×10 but the frames are 160×120", "\(e)")
        // Region strings.
        #expect(throws: PipelineError.self) { try RegionInputs.parseRegion("size=3", index: 0) }
        #expect(throws: PipelineError.self) { try RegionInputs.parseRegion("", index: 0) }
        #expect(throws: PipelineError.self) { try RegionInputs.parseRegion("box=1,2,3", index: 0) }
        #expect(engine.session.tilesEncodedTotal == 0, "every bad input is refused before the vision tower runs")
    }

    /// An annotation RLE of size [2^32, 2^32], or runs near Int.max, trapped on an overflow in
    /// the RLE's size/sum check; both are refused at the JSON boundary now.
    @Test func annotationRLEBounds() throws {
        func error(_ seg: [String: Any]) -> String {
            Self.errorText { _ = try RegionAnnotation.parse([["0": ["segmentation": seg]]], source: "a.json") }
        }
        #expect(error(["size": [1 << 32, 1 << 32], "counts": [100]]) == "a.json region 0 frame 0: RLE size [4294967296, 4294967296] is not a picture size (each side 0...65536)")
        #expect(error(["size": [120, 160], "counts": [Int.max, Int.max]]) == "a.json region 0 frame 0: bad RLE: run length \(Int.max) is more than the 120x160 mask's pixels")
        #expect(error(["size": [2, 2], "counts": [1, 3]]) == "no error", "a valid RLE still parses")
    }

    @Test func regionStrings() throws {
        let a = try RegionInputs.parseRegion("box=10,20,50,60 point=30,40 point=12,22,neg frame=7", index: 2)
        #expect(a.name == "<Prompt2>" && a.prompts.count == 1)
        #expect(a.prompts[0].frame == 7 && a.prompts[0].box == PixelBox(x: 10, y: 20, width: 41, height: 41))
        #expect(a.prompts[0].points == [PromptPoint(x: 30, y: 40), PromptPoint(x: 12, y: 22, positive: false)])
        let b = try RegionInputs.parseRegion("m.png", index: 0)
        #expect(b.prompts[0].maskPath == "m.png" && b.prompts[0].frame == 0)
        // Two frames: a re-prompt of the same region.
        let c = try RegionInputs.parseRegion("frame=0 mask=a.png frame=40 box=1,1,5,5", index: 0)
        #expect(c.prompts.map(\.frame) == [0, 40] && c.prompts[1].box != nil)
    }
}
