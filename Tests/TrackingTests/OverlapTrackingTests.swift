// Issue 10: objects are tracked independently. A region nested in another (a person and their
// hat) and the same region given twice are tracked like any other object: each keeps its whole
// mask, and a prompted mask is returned as given on its own frame.
import Foundation
import Testing
@testable import Tracking
import Video

@Suite(.serialized) struct OverlapTrackingTests {
    static let clip = SyntheticClip.standard(width: 320, height: 192, count: 60)   // natural speed
    static let frames = Array(clip.frames.prefix(15))

    /// The ellipse's first-frame mask and a smaller mask inside it (its middle third).
    static func nested() -> (outer: Mask, inner: Mask) {
        let outer = clip.masks[0][0]
        let b = outer.boundingBox!
        let inner = Mask(width: clip.width, height: clip.height) { x, y in
            outer[x, y] && x >= b.x + b.width / 3 && x <= b.x + 2 * b.width / 3 && y >= b.y + b.height / 3 && y <= b.y + 2 * b.height / 3
        }
        return (outer, inner)
    }

    @Test func nestedRegionIsVisibleOnItsPromptFrameAndTracked() throws {
        let (outer, inner) = Self.nested()
        #expect(inner.area > 50 && inner.intersection(outer) == inner)
        let tracks = try Tracker.track(frames: Self.frames, prompts: [
            ObjectPrompt(name: "person", frame: 0, prompt: .mask(outer)),
            ObjectPrompt(name: "hat", frame: 0, prompt: .mask(inner)),
        ])
        let alone = try Tracker.track(frames: Self.frames, prompts: [ObjectPrompt(name: "person", frame: 0, prompt: .mask(outer))])
        let person = tracks.objects[0].frames, hat = tracks.objects[1].frames
        // On the prompt frame both masks are exactly the prompts (before: the hat was taken away).
        #expect(person[0].mask == outer && hat[0].mask == inner)
        #expect(person[0].confidence == 1 && hat[0].confidence == 1)
        // Later frames: the hat stays tracked, inside the person, which keeps its whole mask (as
        // tracked alone; the flow's region of interest is the same, the hat being inside).
        for t in 1..<Self.frames.count {
            let h = try #require(hat[t].mask, "hat lost on frame \(t)")
            let p = try #require(person[t].mask, "person lost on frame \(t)")
            #expect(!hat[t].lost && !person[t].lost)
            #expect(Double(h.intersection(p).area) >= 0.9 * Double(h.area), "frame \(t)")
            #expect(p.iou(alone.objects[0].frames[t].mask ?? Mask(width: p.width, height: p.height)) > 0.95, "frame \(t)")
        }
    }

    @Test func theSameRegionTwiceGivesTwoIdenticalTracks() throws {
        let c = Self.clip
        let tracks = try Tracker.track(frames: Self.frames, prompts: [
            ObjectPrompt(name: "a", frame: 0, prompt: .mask(c.masks[1][0])),
            ObjectPrompt(name: "b", frame: 0, prompt: .mask(c.masks[1][0])),
        ])
        for t in 0..<Self.frames.count {
            let a = tracks.objects[0].frames[t], b = tracks.objects[1].frames[t]
            #expect(a.mask != nil && a.mask == b.mask && a.confidence == b.confidence && a.lost == b.lost, "frame \(t)")
        }
        #expect((tracks.objects[0].frames[14].mask?.iou(c.masks[1][14]) ?? 0) > 0.8)
    }

    /// A prompt on a later frame never loses pixels to another object's track there.
    @Test func aLaterPromptIsReturnedAsGiven() throws {
        let c = Self.clip
        let (outer, _) = Self.nested()
        let tracks = try Tracker.track(frames: Self.frames, prompts: [
            ObjectPrompt(name: "ellipse", frame: 0, prompt: .mask(outer)),
            ObjectPrompt(name: "again", frame: 6, prompt: .mask(c.masks[0][6])),   // the ellipse again, on frame 6
        ])
        #expect(tracks.objects[1].frames[6].mask == c.masks[0][6])
        for t in 0..<6 { #expect(tracks.objects[1].frames[t].mask != nil, "backward from frame 6: frame \(t)") }
        #expect((tracks.objects[0].frames[6].mask?.iou(c.masks[0][6]) ?? 0) > 0.8, "the first track keeps the shared pixels")
    }

    /// Where masks overlap, a label map (palette PNGs) draws the earlier object.
    @Test func labelMapDrawsTheEarlierObjectOnOverlaps() {
        let (outer, inner) = Self.nested()
        let map = LabelMap(width: outer.width, height: outer.height, masks: [outer, inner])
        #expect(map.mask(1) == outer && map.mask(2).isEmpty)
        let reversed = LabelMap(width: outer.width, height: outer.height, masks: [inner, outer])
        #expect(reversed.mask(1) == inner && reversed.mask(2) == outer.subtracting(inner))
    }
}
