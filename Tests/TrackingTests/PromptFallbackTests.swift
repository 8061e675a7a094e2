import Testing
@testable import Tracking
import Video

/// A box / click / scribble the colour segmenter cannot separate falls back to the prompt's own
/// area, with a warning, instead of failing (issue 13 item 5).
@Suite struct PromptFallbackTests {
    /// A flat frame: inside and outside any box look the same, so GrabCut keeps nothing.
    static let flat = RGBImage(width: 120, height: 90, pixels: [UInt8](repeating: 128, count: 120 * 90 * 3))

    @Test func boxOnAFlatFrameBecomesTheBoxMask() throws {
        let box = PixelBox(x: 10, y: 12, width: 20, height: 15)
        // The strict segmenter finds nothing here (the premise of the fallback).
        #expect(throws: TrackingError.self) { try PromptSegmenter.mask(for: .box(box), on: Self.flat) }
        let (m, warning) = try PromptSegmenter.maskOrFallback(for: .box(box), on: Self.flat, what: "object 'a' on frame 0")
        let expected = Mask(width: 120, height: 90) { x, y in x >= box.x && x <= box.x2 && y >= box.y && y <= box.y2 }
        #expect(m == expected)
        #expect(warning == "object 'a' on frame 0: the segmenter found no object in the prompted box; the box itself is used as the mask")
    }

    @Test func clickOnAFlatFrameBecomesADiscClippedToTheFrame() throws {
        let r = Int(PromptSegmenter.fallbackClickRadius * 90)          // a tenth of the short side: 9
        let (m, warning) = try PromptSegmenter.maskOrFallback(for: RegionPrompt(points: [PromptPoint(x: 0, y: 89),
                                                                                          PromptPoint(x: 40, y: 5, positive: false)]),
                                                              on: Self.flat, what: "p")
        let expected = Mask(width: 120, height: 90) { x, y in x * x + (y - 89) * (y - 89) <= r * r }   // a quarter disc in the corner
        #expect(r == 9 && m == expected)
        #expect(warning == "p: the segmenter found no object around the clicks; a disc (radius 10 % of the frame's short side) around each positive click is used as the mask")
    }

    @Test func scribbleOnAFlatFrameBecomesTheStrokeArea() throws {
        let stroke = Stroke(points: [PromptPoint(x: 20, y: 20), PromptPoint(x: 40, y: 20)], width: 3, positive: true)
        let (m, warning) = try PromptSegmenter.maskOrFallback(for: RegionPrompt(strokes: [stroke]), on: Self.flat, what: "p")
        var expected = Mask(width: 120, height: 90)
        PromptSegmenter.paintPolyline(&expected, stroke.points, radius: 1)
        #expect(m == expected && m.area > 20)
        #expect(warning == "p: the segmenter found no object around the strokes; the positive strokes' area is used as the mask")
    }

    /// Where the segmenter succeeds the result is unchanged and there is no warning.
    @Test func successfulSegmentationIsUnchanged() throws {
        let clip = SyntheticClip.standard(width: 320, height: 192, count: 1)
        let truth = clip.masks[0][0]
        let box = try #require(truth.boundingBox)
        let (m, warning) = try PromptSegmenter.maskOrFallback(for: .box(box), on: clip.frames[0])
        #expect(warning == nil)
        #expect(m == (try PromptSegmenter.mask(for: .box(box), on: clip.frames[0])))
    }

    /// Through the tracker: the box is tracked as the mask and `MaskTracks.warnings` says so.
    @Test func trackerFallsBackAndWarns() throws {
        let box = PixelBox(x: 10, y: 12, width: 20, height: 15)
        let tracks = try Tracker.track(frames: [Self.flat, Self.flat, Self.flat],
                                       prompts: [ObjectPrompt(name: "a", frame: 1, prompt: .box(box))])
        #expect(tracks.warnings == ["object 'a' on frame 1: the segmenter found no object in the prompted box; the box itself is used as the mask"])
        #expect(tracks.objects[0].frames[1].mask?.boundingBox == box)
        #expect(tracks.objects[0].frames.allSatisfy { $0.mask != nil }, "propagated to every frame")
    }
}
