// The tracker choice (issue 13 point 3): resolution flag > spec > GAR_SAM2, the spec keys, the
// SAM 2.1 adapter's stages on the committed tiny image-mode checkpoint (wiring, not mask quality),
// the per-frame status, and the batch resume identity.
import Foundation
import Testing
import Tracking
import Video
@testable import Pipeline

@Suite struct TrackerChoiceTests {
    static let sam2 = "Tests/Fixtures/sam2video-tiny"
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var sam2Path: String { root.appendingPathComponent(sam2).path }

    @Test func resolutionOrderFlagThenSpecThenEnvironment() throws {
        var spec = PipelineSpec.Tracker()
        let env = ["GAR_SAM2": "/env/sam2"]
        #expect(try TrackerChoice.resolve(kind: nil, sam2: nil, spec: spec, environment: [:]) == .flow)
        #expect(try TrackerChoice.resolve(kind: nil, sam2: nil, spec: spec, environment: env) == .sam2(model: "/env/sam2"))
        #expect(try TrackerChoice.resolve(kind: nil, sam2: nil, spec: spec, environment: ["GAR_SAM2": ""]) == .flow)
        #expect(try TrackerChoice.resolve(kind: .flow, sam2: nil, spec: spec, environment: env) == .flow)
        spec.sam2Model = "/spec/sam2"
        #expect(try TrackerChoice.resolve(kind: nil, sam2: nil, spec: spec, environment: env) == .sam2(model: "/spec/sam2"))
        #expect(try TrackerChoice.resolve(kind: nil, sam2: "/flag", spec: spec, environment: env) == .sam2(model: "/flag"))
        spec.kind = .flow
        #expect(try TrackerChoice.resolve(kind: nil, sam2: nil, spec: spec, environment: env) == .flow)
        #expect(try TrackerChoice.resolve(kind: .sam2, sam2: nil, spec: spec, environment: [:]) == .sam2(model: "/spec/sam2"))
        #expect(try TrackerChoice.resolve(kind: .auto, sam2: nil, spec: spec, environment: [:]) == .sam2(model: "/spec/sam2"))
    }

    @Test func sam2WithoutACheckpointAndConflictsAreCommandLineErrors() {
        for spec in [PipelineSpec.Tracker(), { var t = PipelineSpec.Tracker(); t.kind = .sam2; return t }()] {
            do {
                _ = try TrackerChoice.resolve(kind: spec.kind == .sam2 ? nil : .sam2, sam2: nil, spec: spec, environment: [:])
                Issue.record("sam2 without a checkpoint was accepted")
            } catch let e as PipelineError {
                guard case let .invalidInput(what, reason) = e else { Issue.record("\(e)"); continue }
                #expect(what.hasPrefix("--tracker"), "a usage error names the option: \(what)")
                #expect(reason.contains("--sam2 DIR") && reason.contains("GAR_SAM2"))
            } catch { Issue.record("\(error)") }
        }
        #expect(throws: PipelineError.self) { try TrackerChoice.resolve(kind: .flow, sam2: "/x", spec: .init(), environment: [:]) }
        #expect(throws: PipelineError.self) { try TrackerChoice.resolve(kind: nil, sam2: "", spec: .init(), environment: [:]) }
    }

    @Test func specKeysAndTheirErrors() throws {
        let s = try PipelineSpec.parse("tracker:\n  kind: sam2\n  sam2_model: ckpt/sam2\n", source: "p.yaml")
        #expect(s.tracker.kind == .sam2 && s.tracker.sam2Model == "ckpt/sam2")
        #expect(PipelineSpec().tracker.kind == .auto && PipelineSpec().tracker.sam2Model == nil)
        let o = try PipelineSpec.parse("description: x\n", source: "p.yaml", overrides: ["tracker.kind=flow", "tracker.sam2_model=/m"])
        #expect(o.tracker.kind == .flow && o.tracker.sam2Model == "/m")
        #expect(throws: SpecError.self) { try PipelineSpec.parse("tracker:\n  kind: grabcut\n", source: "p.yaml") }
        #expect(throws: SpecError.self) { try PipelineSpec.parse("tracker:\n  sam2_model: 3\n", source: "p.yaml", overrides: ["tracker.sam2_model=\"\""]) }
        // sam2_model is relative to the spec file, like model.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gar-trackerchoice-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("p.yaml").path
        try "tracker:\n  sam2_model: weights/sam2\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try PipelineSpec.load(path: path).tracker.sam2Model == dir.appendingPathComponent("weights/sam2").path)
    }

    @Test func frameStatusSeparatesLostFromNotVisible() {
        #expect(FrameStatus(hasMask: true, lost: false) == .visible)
        #expect(FrameStatus(hasMask: false, lost: false).rawValue == "not_visible")
        #expect(FrameStatus(hasMask: false, lost: true) == .lost)
    }

    @Test func strokesAreSampledEvenlyByArcLength() {
        let p = SAM2Tracking.strokePoints([(0, 0), (10, 0), (10, 10)], count: 5)
        #expect(p.map(\.0) == [0, 5, 10, 10, 10] && p.map(\.1) == [0, 0, 0, 5, 10])
        #expect(SAM2Tracking.strokePoints([(3, 4)], count: 5).map(\.0) == [3])
        var prompt = RegionPrompt(points: [PromptPoint(x: 1, y: 2, positive: false)])
        prompt.strokes = [Stroke(points: [PromptPoint(x: 0, y: 0), PromptPoint(x: 8, y: 0)], width: 3, positive: true)]
        let points = SAM2Tracking.points(of: prompt)
        #expect(points.count == 1 + SAM2Tracking.strokeSamples)
        #expect(points[0].label == 0 && points[1...].allSatisfy { $0.label == 1 && $0.y == 0 })
        #expect(points.last!.x == 8)
    }

    @Test func badCheckpointIsOneErrorNamingIt() {
        for dir in ["/nonexistent/sam2", Self.root.appendingPathComponent("Tests/Fixtures/gar-tiny").path] {
            do {
                _ = try SAM2Tracking.load(dir)
                Issue.record("\(dir) loaded")
            } catch {
                let text = "\(error)"
                #expect(text.hasPrefix(dir + ":") && !text.contains("\n"), "\(text)")
            }
        }
    }

    /// The SAM 2.1 stages on moving-square frames with the tiny checkpoint: every frame gets an
    /// entry, the prompted frame is the prompt with confidence 1, nothing is ever `lost`.
    @Test func sam2StagesGiveATrackPerObjectAndFrame() throws {
        let frames = (0 ..< 5).map { t in
            RGBImage(width: 64, height: 48, pixels: (0 ..< 64 * 48 * 3).map { i in
                let x = (i / 3) % 64, y = (i / 3) / 64
                return x >= 10 + 2 * t && x < 30 + 2 * t && y >= 10 && y < 30 ? 230 : 20
            })
        }
        let sam2 = try SAM2Tracking.load(Self.sam2Path)
        let mask = Mask(width: 64, height: 48) { x, y in x >= 14 && x < 34 && y >= 10 && y < 30 }
        let prompts = [
            CheckedObjectPrompt(name: "a", frame: 2, prompt: try PromptSegmenter.validate(.mask(mask), width: 64, height: 48, what: "a")),
            CheckedObjectPrompt(name: "b", frame: 0, prompt: try PromptSegmenter.validate(.box(PixelBox(x: 10, y: 10, width: 20, height: 20)),
                                                                                          width: 64, height: 48, what: "b")),
        ]
        let prompted = try VideoRegionJob.promptMasks(frames, prompts, sam2: sam2)
        #expect(prompted.names == ["a", "b"] && prompted.masks.count == 2)
        #expect(prompted.masks[0].mask == mask, "a mask prompt is the mask")
        #expect(!prompted.masks[1].mask.isEmpty, "a box always gives a mask (SAM's, or the box itself with a warning)")
        var steps = 0
        let tracks = try sam2.propagate(prompted, frameCount: frames.count, frame: { frames[$0] }, progress: { _, _ in steps += 1 })
        #expect(steps > 0)
        #expect(tracks.objects.map(\.name) == ["a", "b"] && tracks.frameCount == 5 && tracks.width == 64)
        #expect(tracks.objects[0].frames[2].mask == mask && tracks.objects[0].frames[2].confidence == 1)
        #expect(tracks.objects[1].frames[0].confidence == 1)
        #expect(tracks.objects.allSatisfy { $0.frames.allSatisfy { !$0.lost } }, "SAM 2 never gives up: out of view is not lost")
    }

    @Test func batchIdentityIncludesTheTracker() {
        var o = BatchOptions(items: "x", spec: PipelineSpec.builtIn(.captionTrackedObject), out: "o.jsonl")
        let flow = BatchJob.specHash(o)
        o.tracker = .sam2(model: "/a")
        let a = BatchJob.specHash(o)
        o.tracker = .sam2(model: "/b")
        #expect(flow != a && a != BatchJob.specHash(o))
        // The same resolved choice, however it was given, is the same pipeline.
        o.tracker = .flow
        o.spec.tracker.kind = .auto
        #expect(BatchJob.specHash(o) == flow)
    }
}
