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
        let p = try VideoRegionJob.promptMasks(Self.frames, [ObjectPrompt(name: "<Prompt0>", frame: 1, prompt: .mask(source))],
                                               width: 160, height: 120)
        #expect(p.width == 80 && p.height == 60 && p.names == ["<Prompt0>"])
        #expect(p.masks.count == 1 && p.masks[0].frame == 1)
        #expect(p.masks[0].mask == source.resized(width: 80, height: 60))
        // Checked against the source size: a box inside the tracking frames but outside the source is refused.
        let outside = ObjectPrompt(name: "<Prompt0>", frame: 0, prompt: .box(PixelBox(x: 150, y: 100, width: 20, height: 10)))
        #expect(throws: TrackingError.self) { _ = try VideoRegionJob.promptMasks(Self.frames, [outside], width: 160, height: 120) }
    }

    @Test func propagateGivesAMaskOnEveryTrackedFrame() throws {
        let source = Mask(width: 160, height: 120) { x, y in x >= 42 && x < 92 && y >= 40 && y < 100 }
        let p = try VideoRegionJob.promptMasks(Self.frames, [ObjectPrompt(name: "<Prompt0>", frame: 1, prompt: .mask(source))],
                                               width: 160, height: 120)
        var r = RegionRequest(input: "frames", spec: PipelineSpec.builtIn(.captionTrackedObject))
        r.quiet = true
        let tracks = try VideoRegionJob.propagate(r, p, through: Self.frames)
        #expect(tracks.objects.count == 1 && tracks.frameCount == 4)
        #expect(tracks.objects[0].frames[1].confidence == 1)
        #expect(tracks.objects[0].frames.allSatisfy { $0.mask != nil })
    }
}
