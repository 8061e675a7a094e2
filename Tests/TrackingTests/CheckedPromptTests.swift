// Prompts are checked once (`PromptSegmenter.validate` / `Tracker.checkPrompts`); the tracker's
// and segmenter's paths take the checked value. The only check after scaling to the tracking
// size is that no mask vanishes.
import Testing
import Video
@testable import Tracking

@Suite struct CheckedPromptTests {
    /// Two 80×60 frames standing for a 160×120 source: a bright square on a dark background.
    static let frames = (0 ..< 2).map { _ in
        RGBImage(width: 80, height: 60, pixels: (0 ..< 80 * 60 * 3).map { i in
            let x = (i / 3) % 80, y = (i / 3) / 80
            return x >= 20 && x < 45 && y >= 20 && y < 50 ? 230 : 20
        })
    }

    @Test func validateReturnsThePromptCheckedForItsSize() throws {
        let p = RegionPrompt.box(PixelBox(x: 10, y: 10, width: 20, height: 20))
        let c = try PromptSegmenter.validate(p, width: 160, height: 120, what: "r")
        #expect(c.prompt == p && c.width == 160 && c.height == 120)
        #expect(throws: TrackingError.self) { try PromptSegmenter.validate(p, width: 20, height: 20, what: "r") }
    }

    @Test func checkPromptsChecksFrameIndexAndPrompt() throws {
        let box = RegionPrompt.box(PixelBox(x: 10, y: 10, width: 20, height: 20))
        let ok = try Tracker.checkPrompts([ObjectPrompt(name: "a", frame: 1, prompt: box)], frameCount: 2, width: 160, height: 120)
        #expect(ok.count == 1 && ok[0].name == "a" && ok[0].frame == 1 && ok[0].prompt.prompt == box)
        #expect(throws: TrackingError.frameOutOfRange(frame: 2, count: 2)) {
            _ = try Tracker.checkPrompts([ObjectPrompt(name: "a", frame: 2, prompt: box)], frameCount: 2, width: 160, height: 120)
        }
        let outside = RegionPrompt.box(PixelBox(x: 150, y: 100, width: 20, height: 10))
        #expect(throws: TrackingError.self) {
            _ = try Tracker.checkPrompts([ObjectPrompt(name: "a", frame: 0, prompt: outside)], frameCount: 2, width: 160, height: 120)
        }
    }

    /// Source-size entry point: a box inside the tracking frames but outside the source is refused
    /// (checked at the source size); a one-pixel mask that the 2× shrink drops is refused after scaling.
    @Test func sourcePromptsCheckedAtSourceSizeThenScaled() throws {
        let outside = ObjectPrompt(name: "a", frame: 0, prompt: .box(PixelBox(x: 150, y: 100, width: 20, height: 10)))
        #expect(throws: TrackingError.self) {
            _ = try Tracker.promptMasks(frames: Self.frames, sourceWidth: 160, sourceHeight: 120, prompts: [outside])
        }
        let thin = Mask(width: 160, height: 120) { x, y in x == 0 && y == 0 }
        let vanishing = ObjectPrompt(name: "a", frame: 1, prompt: .mask(thin))
        #expect(throws: TrackingError.emptyMask(what: "object 'a' on frame 1 mask")) {
            _ = try Tracker.promptMasks(frames: Self.frames, sourceWidth: 160, sourceHeight: 120, prompts: [vanishing])
        }
        let kept = Mask(width: 160, height: 120) { x, y in x == 1 && y == 1 }
        let p = try Tracker.promptMasks(frames: Self.frames, sourceWidth: 160, sourceHeight: 120,
                                        prompts: [ObjectPrompt(name: "a", frame: 1, prompt: .mask(kept))])
        #expect(p.width == 80 && p.masks.count == 1 && p.masks[0].mask == kept.resized(width: 80, height: 60))
    }

    /// The checked-prompt entry point segments without checking again, at the frames' size.
    @Test func checkedPromptsAreSegmentedAsGiven() throws {
        let square = Mask(width: 160, height: 120) { x, y in x >= 40 && x < 90 && y >= 40 && y < 100 }
        let c = try PromptSegmenter.validate(.mask(square), width: 160, height: 120, what: "a")
        let p = try Tracker.promptMasks(frames: Self.frames, checked: [CheckedObjectPrompt(name: "a", frame: 0, prompt: c)])
        #expect(p.names == ["a"] && p.masks[0].mask == square.resized(width: 80, height: 60))
        #expect(throws: TrackingError.frameOutOfRange(frame: 5, count: 2)) {
            _ = try Tracker.promptMasks(frames: Self.frames, checked: [CheckedObjectPrompt(name: "a", frame: 5, prompt: c)])
        }
    }
}
