// VideoRegionJob's two tracking stages called alone: prompts to masks (prompts in the source's
// pixels, frames at the tracking size), then propagation.
import Testing
import Tracking
import Video
@testable import Pipeline

@Suite struct VideoRegionTrackingStagesTests {
    /// Four 80×60 frames standing for a 160×120 source.
    static let frames = (0 ..< 4).map { t in
        RGBImage(width: 80, height: 60, pixels: (0 ..< 80 * 60 * 3).map { i in
            let x = (i / 3) % 80, y = (i / 3) / 80
            return x >= 20 + t && x < 45 + t && y >= 20 && y < 50 ? 230 : 20
        })
    }

    @Test func promptsToMasksScalesSourcePromptsToTheTrackingSize() throws {
        let source = Mask(width: 160, height: 120) { x, y in x >= 40 && x < 90 && y >= 40 && y < 100 }
        let p = try VideoRegionJob.promptMasks(Self.frames, [try Self.checked(.mask(source), frame: 1)])
        #expect(p.width == 80 && p.height == 60 && p.names == ["<Prompt0>"])
        #expect(p.masks.count == 1 && p.masks[0].frame == 1)
        #expect(p.masks[0].mask == source.resized(width: 80, height: 60))
        // Prompts come checked (readRegions); the stage only refuses a mask that vanishes when shrunk.
        let thin = Mask(width: 160, height: 120) { x, y in x == 0 && y == 0 }
        #expect(throws: TrackingError.emptyMask(what: "object '<Prompt0>' on frame 0 mask")) {
            _ = try VideoRegionJob.promptMasks(Self.frames, [try Self.checked(.mask(thin), frame: 0)])
        }
    }

    /// A region prompt checked against the 160×120 source, as readRegions hands it on.
    static func checked(_ p: RegionPrompt, frame: Int) throws -> CheckedObjectPrompt {
        CheckedObjectPrompt(name: "<Prompt0>", frame: frame, prompt: try PromptSegmenter.validate(p, width: 160, height: 120, what: "r"))
    }

    @Test func propagateGivesAMaskOnEveryTrackedFrame() throws {
        let source = Mask(width: 160, height: 120) { x, y in x >= 42 && x < 92 && y >= 40 && y < 100 }
        let p = try VideoRegionJob.promptMasks(Self.frames, [try Self.checked(.mask(source), frame: 1)])
        var r = RegionRequest(input: "frames", spec: PipelineSpec.builtIn(.captionTrackedObject))
        r.quiet = true
        let tracks = try VideoRegionJob.propagate(r, p, through: Self.frames)
        #expect(tracks.objects.count == 1 && tracks.frameCount == 4)
        #expect(tracks.objects[0].frames[1].confidence == 1)
        #expect(tracks.objects[0].frames.allSatisfy { $0.mask != nil })
    }
}
