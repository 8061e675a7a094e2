import Basics
import Foundation
import Testing
@testable import Tracking
import Video

/// End-to-end tracking on the committed synthetic generator (exact ground truth).
@Suite(.serialized) struct TrackerTests {
    static let clip = SyntheticClip.standard()          // 320×192, 60 frames, 2 objects

    @Test func generatorIsDeterministic() {
        let again = SyntheticClip.standard(width: 160, height: 96, count: 8)
        let once = SyntheticClip.standard(width: 160, height: 96, count: 8)
        #expect(again.frames == once.frames)
        #expect(again.masks[0] == once.masks[0] && again.masks[1] == once.masks[1])
        // The clip exercises what it claims: occlusion, leaving the frame, coming back.
        let a = Self.clip.masks[0]
        #expect(a[0].area > 2000 && a[33].area == 0 && a[59].area > 1500)
        #expect(a.contains { $0.area > 0 && $0.area < 1000 })                 // partly out / occluded
        #expect(Self.clip.masks[0][10].intersection(Self.clip.masks[1][10]).area == 0)
    }

    /// The issue's bar: J&F ≥ 0.85 on the synthetic benchmark, both objects tracked at once from
    /// their first-frame masks (DAVIS protocol: first and last frame not scored).
    @Test func syntheticJAndFAtLeast085() throws {
        let c = Self.clip
        let tracks = try Tracker.track(frames: c.frames, prompts: [
            ObjectPrompt(name: "ellipse", frame: 0, prompt: .mask(c.masks[0][0])),
            ObjectPrompt(name: "box", frame: 0, prompt: .mask(c.masks[1][0])),
        ])
        var scores: [Double] = []
        for o in 0..<2 {
            let preds = tracks.objects[o].frames.map { $0.mask ?? Mask(width: c.width, height: c.height) }
            let s = SequenceScore.evaluate(name: "\(o)", predictions: preds, truths: c.masks[o])
            scores.append(s.jAndF)
        }
        let mean = scores.reduce(0, +) / 2
        print("synthetic J&F per object \(scores), mean \(mean)")
        #expect(mean >= 0.85)
        // While the ellipse is fully outside the frame it is reported absent (no invented mask).
        for t in 31...38 { #expect(tracks.objects[0].frames[t].mask == nil) }
        // ... and it is found again once back in view.
        #expect((tracks.objects[0].frames[55].mask?.iou(c.masks[0][55]) ?? 0) > 0.8)
    }

    /// Backward from a prompt on the last frame, and a re-prompt overriding a bad start.
    @Test func backwardAndReprompt() throws {
        let c = SyntheticClip.standard(width: 320, height: 192, count: 40)
        let wrong = Mask(width: c.width, height: c.height) { x, y in x < 40 && y < 40 }
        let tracks = try Tracker.track(frames: c.frames, prompts: [
            ObjectPrompt(name: "box", frame: 39, prompt: .mask(c.masks[1][39])),           // backward only
            ObjectPrompt(name: "ellipse", frame: 0, prompt: .mask(wrong)),                 // wrong start...
            ObjectPrompt(name: "ellipse", frame: 12, prompt: .mask(c.masks[0][12])),       // ...overridden here
        ])
        #expect(tracks.objects.map(\.name) == ["box", "ellipse"])
        let box = tracks.objects[0].frames, ell = tracks.objects[1].frames
        var j: [Double] = []
        for t in 0..<39 { j.append(box[t].mask?.iou(c.masks[1][t]) ?? (c.masks[1][t].isEmpty ? 1 : 0)) }
        #expect(j.reduce(0, +) / Double(j.count) > 0.85)
        #expect((ell[12].mask?.iou(c.masks[0][12]) ?? 0) > 0.99 && ell[12].confidence == 1)
        // Right after the re-prompt (it then leaves the frame fast, 9 px/frame, not asserted).
        for t in 13...14 { #expect((ell[t].mask?.iou(c.masks[0][t]) ?? 0) > 0.8) }
        #expect((ell[8].mask?.iou(c.masks[0][8]) ?? 0) < 0.2)                        // before: the wrong prompt
        // (Objects are independent since issue 10: masks may overlap; see OverlapTrackingTests.)
    }

    @Test func badPromptsAreClearErrors() {
        let c = SyntheticClip.standard(width: 64, height: 48, count: 3)
        func err(_ p: [ObjectPrompt]) -> String {
            do { _ = try Tracker.track(frames: c.frames, prompts: p); return "no error" } catch { return "\(error)" }
        }
        let e1 = err([ObjectPrompt(name: "a", frame: 3, prompt: .box(PixelBox(x: 1, y: 1, width: 5, height: 5)))])
        #expect(e1.contains("prompt frame 3 is past the end") && e1.contains("3 frames"))
        let e2 = err([ObjectPrompt(name: "a", frame: 0, prompt: .mask(Mask(width: 32, height: 48) { _, _ in true }))])
        #expect(e2.contains("32x48") && e2.contains("64x48"))
        let e3 = err([ObjectPrompt(name: "a", frame: 0, prompt: .mask(Mask(width: 64, height: 48)))])
        #expect(e3.contains("empty"))
        let e4 = err([ObjectPrompt(name: "a", frame: 1, prompt: .box(PixelBox(x: 50, y: 10, width: 20, height: 10)))])
        #expect(e4.contains("outside the 64x48 frame"))
        let e5 = err([ObjectPrompt(name: "a", frame: 0, prompt: RegionPrompt(points: [PromptPoint(x: 3, y: 3, positive: false)]))])
        #expect(e5.contains("positive"))
    }
}

/// Prompt → mask with GrabCut on synthetic frames.
@Suite struct PromptTests {
    static let clip = SyntheticClip.standard(width: 320, height: 192, count: 1)

    @Test func boxPromptSegmentsObject() throws {
        let truth = Self.clip.masks[0][0], box = truth.boundingBox!
        let m = try PromptSegmenter.mask(for: .box(box), on: Self.clip.frames[0])
        // A tight box on a distinctly coloured object: GrabCut should get nearly all of it.
        #expect(m.iou(truth) > 0.9)
    }

    @Test func boxWithNothingInsideIsAClearError() {
        // A flat frame: inside and outside the box look the same, so the cut keeps nothing. The
        // strict `mask(for:)` says so; the tracker's `maskOrFallback` uses the box (PromptFallbackTests).
        let flat = RGBImage(width: 64, height: 48, pixels: [UInt8](repeating: 128, count: 64 * 48 * 3))
        do {
            let m = try PromptSegmenter.mask(for: .box(PixelBox(x: 10, y: 10, width: 20, height: 20)), on: flat, what: "object 'a' on frame 0")
            Issue.record("expected an error, got a mask of area \(m.area)")
        } catch {
            #expect("\(error)".hasPrefix("object 'a' on frame 0: the segmenter found no object"), "\(error)")
        }
    }

    @Test func clicksAndScribbleSegmentObject() throws {
        let truth = Self.clip.masks[1][0], b = truth.boundingBox!
        let cx = b.x + b.width / 2, cy = b.y + b.height / 2
        let clicks = RegionPrompt(points: [PromptPoint(x: cx, y: cy), PromptPoint(x: cx + 6, y: cy - 10)])
        #expect(try PromptSegmenter.mask(for: clicks, on: Self.clip.frames[0]).iou(truth) > 0.8)
        let strokes = try ScribbleFile.parse("""
            # a stroke across the box, one on the background
            pos 5 \(cx - 10),\(cy) \(cx + 10),\(cy + 5)
            neg 3 5,5 40,5
            """, path: "s.txt")
        let m = try PromptSegmenter.mask(for: RegionPrompt(strokes: strokes), on: Self.clip.frames[0])
        #expect(m.iou(truth) > 0.8)
    }

    /// The fast GrabCut (graph over the undecided pixels only, Float t-links, early stop) against
    /// its naive twin, with hard labels from a click and a negative stroke, on three paths:
    /// "crop" the box + 20 px (under 40 000 pixels: GMMs fitted on every pixel, single scale);
    /// "frame" the whole 320×192 frame (GMMs on a quarter of the pixels, single scale);
    /// "coarse" the whole frame coarse to fine (its default above 40 000 pixels).
    /// The frame's contrast is halved and uniform noise (±40) added so that the cut is not trivial.
    @Test(arguments: ["crop", "frame", "coarse"]) func grabCutMatchesNaiveTwin(path: String) {
        var f = Self.clip.frames[0]
        let W = f.width, H = f.height
        var rng = SplitMix64(seed: 7)
        for i in f.pixels.indices {
            let v = 64 + Int(f.pixels[i]) / 2 + Int(rng.next() % 81) - 40
            f.pixels[i] = UInt8(max(0, min(255, v)))
        }
        let truth = Self.clip.masks[0][0], b = truth.boundingBox!
        var labels = [UInt8](repeating: GrabCut.Label.background.rawValue, count: W * H)
        for y in b.y...b.y2 { for x in b.x...b.x2 { labels[y * W + x] = GrabCut.Label.probablyForeground.rawValue } }
        let cx = b.x + b.width / 2, cy = b.y + b.height / 2
        for y in (cy - 3)...(cy + 3) { for x in (cx - 3)...(cx + 3) { labels[y * W + x] = GrabCut.Label.foreground.rawValue } }
        for x in b.x...(b.x + 12) { labels[b.y * W + x] = GrabCut.Label.background.rawValue }
        let crop = path == "crop" ? PixelBox(x: b.x - 20, y: b.y - 20, width: b.width + 40, height: b.height + 40)
            : PixelBox(x: 0, y: 0, width: W, height: H)
        #expect((crop.width * crop.height < 4 * GrabCut.minGMMSamples) == (path == "crop"))
        let fast = GrabCut.segment(rgb: f.pixels, width: W, height: H, labels: labels, crop: crop,
                                   coarseAbove: path == "coarse" ? 40_000 : Int.max)
        let naive = GrabCut.segmentNaive(rgb: f.pixels, width: W, height: H, labels: labels, crop: crop)
        func mask(_ l: [UInt8]) -> Mask {
            Mask(width: W, height: H, bits: l.map { $0 == GrabCut.Label.foreground.rawValue || $0 == GrabCut.Label.probablyForeground.rawValue ? 1 : 0 })
        }
        let iou = mask(fast).iou(mask(naive))
        print("grabcut fast (\(path)) vs naive: IoU \(iou); with the truth: fast \(mask(fast).iou(truth)), naive \(mask(naive).iou(truth))")
        // Same energy up to the Float t-links and the early stop at < 0.1 % label changes: a few
        // boundary pixels may go the other way (IoU ≥ 0.99). The quarter-sample GMM fit and the
        // coarse-to-fine cut (all but a 3-pixel band around the half-resolution boundary decided at
        // half resolution) may move a boundary by a pixel or so (≥ 0.97).
        #expect(iou >= (path == "crop" ? 0.99 : 0.97))
        #expect(mask(naive).iou(truth) > 0.9)
    }

    @Test func scribbleFileErrorsNameTheLine() {
        #expect(throws: TrackingError.badScribble(path: "f", line: 2, reason: "expected 'pos' or 'neg', got 'yes'")) {
            try ScribbleFile.parse("pos 3 1,1\nyes 3 1,1", path: "f")
        }
        #expect(throws: TrackingError.self) { try ScribbleFile.parse("pos 3 1;1", path: "f") }
        #expect(throws: TrackingError.self) { try ScribbleFile.parse("# nothing", path: "f") }
    }
}
