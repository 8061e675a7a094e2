// The stages of VideoRegionJob called one at a time (no model needed up to the model inputs), and
// the typed region builder shared by gar track's flags, --region strings and gar caption.
import Foundation
import Testing
import Tracking
import Video
@testable import Pipeline

@Suite struct VideoRegionStagesTests {
    static let frames = Repo.path("samples/frames/png_seq")   // 12 frames, 160×120, no frame rate

    static func request(_ regions: [String], frames: Int = 3) throws -> RegionRequest {
        var spec = PipelineSpec.builtIn(.captionTrackedObject)
        spec.frames.count = frames
        var r = RegionRequest(input: Self.frames, spec: spec)
        try r.setRegions(regions)
        return r
    }

    @Test func openSourceReadsSizeAndCount() throws {
        var warnings: [String] = []
        let s = try VideoRegionJob.openSource(try Self.request(["box=40,40,90,100"]), warnings: &warnings)
        #expect(s.frameCount == 12 && s.width == 160 && s.height == 120 && s.isFolder)
        #expect(warnings.isEmpty)
    }

    @Test func readRegionsChecksPromptsOnce() throws {
        var warnings: [String] = []
        let r = try Self.request(["box=40,40,90,100", "frame=2 point=50,60 frame=7 point=55,65"])
        let s = try VideoRegionJob.openSource(r, warnings: &warnings)
        guard case .prompts(let p) = try VideoRegionJob.readRegions(r, s) else { Issue.record("expected prompts"); return }
        #expect(p.count == 2 && p[0].map(\.frame) == [0] && p[1].map(\.frame) == [2, 7])
        #expect(p[0][0].prompt.prompt.box == PixelBox(x: 40, y: 40, width: 51, height: 61))
        // Past the end and outside the frame fail here, before any model is loaded.
        let late = try Self.request(["frame=12 box=1,1,5,5"])
        #expect(throws: PipelineError.self) { _ = try VideoRegionJob.readRegions(late, s) }
        let outside = try Self.request(["box=150,100,400,300"])
        #expect(throws: (any Error).self) { _ = try VideoRegionJob.readRegions(outside, s) }
        var both = try Self.request(["box=1,1,5,5"])
        both.annotation = RegionAnnotation(regions: [[:]], source: "a.json")
        #expect(throws: PipelineError.self) { _ = try VideoRegionJob.readRegions(both, s) }
    }

    @Test func trackingFramesAddSampledAndPrompted() throws {
        var warnings: [String] = []
        var r = try Self.request(["frame=5 box=40,40,90,100"])
        r.spec.tracker.maxFrames = 6     // 12 frames, 3 sampled, 1 prompt: room for 2 → every 6th
        let s = try VideoRegionJob.openSource(r, warnings: &warnings)
        guard case .prompts(let p) = try VideoRegionJob.readRegions(r, s) else { Issue.record("expected prompts"); return }
        let plan = VideoRegionJob.trackingFrames(r, s, prompts: p, sampled: [0, 4, 8], warnings: &warnings)
        #expect(plan.step == 6 && plan.indices == [0, 4, 5, 6, 8])
        #expect(warnings.count == 1)
    }

    /// Tracking a box on the folder: one mask per region per sampled frame at the source size,
    /// confidence 1 on the prompted frame; the model inputs key frames by their union mask.
    @Test func trackedMasksThenModelInputs() throws {
        var warnings: [String] = []
        let r = try Self.request(["box=40,40,90,100"])
        let s = try VideoRegionJob.openSource(r, warnings: &warnings)
        guard case .prompts(let p) = try VideoRegionJob.readRegions(r, s) else { Issue.record("expected prompts"); return }
        let m = try VideoRegionJob.trackedMasks(r, s, p, sampled: [0, 5, 11], warnings: &warnings)
        #expect(m.frames.map(\.index) == [0, 5, 11] && m.trackedCount == 12)
        #expect(m.masks.count == 1 && m.masks[0].count == 3)
        #expect(m.masks[0].allSatisfy { $0 == nil || ($0!.width == 160 && $0!.height == 120) })
        #expect(m.masks[0][0] != nil && m.confidence[0][0] == 1)
        try VideoRegionJob.checkEveryRegionSeen(m, fromAnnotation: false)
        let inputs = VideoRegionJob.modelInputs(r, m, width: 160, height: 120)
        #expect(inputs.images.count == 3 && inputs.masks[0].count == 3)
        let keys = try #require(inputs.options.frameKeys)
        #expect(keys.count == 3 && Set(keys).count == 3)
        #expect(keys[0].contains("#frame=0#union="))
        // No mask anywhere: refused.
        var none = m
        none.masks = [[nil, nil, nil]]
        #expect(throws: PipelineError.self) { try VideoRegionJob.checkEveryRegionSeen(none, fromAnnotation: false) }
    }

    /// gar caption's options, a --region string and gar track's flags give the same object.
    @Test func oneBuilderForEverySpelling() throws {
        var b = PromptListBuilder()
        try b.object("<Prompt0>")
        try b.frame(3)
        try b.box("10,20,50,60")
        try b.point("30,40")
        try b.point("12,22,neg")
        let typed = try b.finish()
        let region = try RegionInputs.parseRegion("frame=3 box=10,20,50,60 point=30,40 point=12,22,neg", index: 0)
        let flags = try TrackArguments.parse(["--object", "<Prompt0>", "--frame", "3", "--box", "10,20,50,60",
                                              "--point", "30,40", "--point", "12,22,neg"])
        #expect(typed == [region] && typed == flags)
        // The text form round-trips.
        #expect(try RegionInputs.parseRegion(RegionInputs.text(of: region), index: 0) == region)
        // A frame with no prompt after it is refused by every spelling.
        var dangling = PromptListBuilder()
        try dangling.mask("m.png")
        try dangling.frame(10)
        #expect(throws: PipelineError.self) { _ = try dangling.finish() }
        #expect(throws: PipelineError.self) { _ = try TrackArguments.parse(["--mask", "m.png", "--frame", "10"]) }
    }
}
