// Tracking as two stages called one at a time: prompts to masks, then propagation. Together
// `Tracker.track` is the two in a row (TrackerTests test it end to end).
import Testing
@testable import Tracking
import Video

@Suite struct TrackerStagesTests {
    static let clip = SyntheticClip.standard(width: 160, height: 96, count: 10)

    static let prompts: [ObjectPrompt] = [
        ObjectPrompt(name: "box", frame: 9, prompt: .mask(clip.masks[1][9])),
        ObjectPrompt(name: "ellipse", frame: 0, prompt: .box(clip.masks[0][0].boundingBox!)),
        ObjectPrompt(name: "ellipse", frame: 4, prompt: .mask(clip.masks[0][4])),
    ]

    @Test func promptMasksAreThePromptsOnTheirFrames() throws {
        let p = try Tracker.promptMasks(frames: Self.clip.frames, prompts: Self.prompts)
        #expect(p.names == ["box", "ellipse"] && p.width == 160 && p.height == 96)
        #expect(p.masks.map(\.object) == [0, 1, 1] && p.masks.map(\.frame) == [9, 0, 4])
        #expect(p.masks[0].mask == Self.clip.masks[1][9] && p.masks[2].mask == Self.clip.masks[0][4])
        #expect(p.masks[1].mask.area > 0)
        // A bad prompt fails in this stage, before any propagation.
        let late = [ObjectPrompt(name: "x", frame: 10, prompt: .mask(Self.clip.masks[1][9]))]
        #expect(throws: TrackingError.self) { _ = try Tracker.promptMasks(frames: Self.clip.frames, prompts: late) }
    }

    @Test func propagationStartsFromThePromptMasks() throws {
        let p = try Tracker.promptMasks(frames: Self.clip.frames, prompts: Self.prompts)
        let staged = try Tracker.propagate(p, through: Self.clip.frames)
        #expect(staged.objects.map(\.name) == ["box", "ellipse"] && staged.frameCount == 10)
        // Between prompts the masks are propagated, not left empty.
        for (o, truth, t) in [(1, 0, 2), (0, 1, 8)] {
            #expect(Self.clip.masks[truth][t].area > 0)
            #expect((staged.objects[o].frames[t].mask?.iou(Self.clip.masks[truth][t]) ?? 0) > 0.5)
        }
        // Each object starts from its prompt masks: exact on the prompted frames.
        #expect((staged.objects[0].frames[9].mask?.iou(Self.clip.masks[1][9]) ?? 0) > 0.99)
        #expect((staged.objects[1].frames[4].mask?.iou(Self.clip.masks[0][4]) ?? 0) > 0.99)
        // Frames of another size than the prompt masks are refused.
        let small = SyntheticClip.standard(width: 80, height: 48, count: 10).frames
        #expect(throws: TrackingError.self) { _ = try Tracker.propagate(p, through: small) }
    }
}
