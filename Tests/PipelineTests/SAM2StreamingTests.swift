// SAM 2.1's pipeline path streams (issue 13 point 4): `SAM2Tracking.track(stream:…)` keeps the
// prompted frames and `FrameFeed` reads SAM 2's loop's frames from the decoder on demand (forward in
// decode order, backward in re-decoded chunks) instead of collecting the clip. Checked here:
//   - the frames handed to the loop are released once it has moved on (a frame source that counts
//     which of its frames are still held), and the masks are those of the collected frames;
//   - from a video file, the streamed path gives the same tracks as the two stages on collected frames.
import Foundation
import Testing
import Tracking
import Video
@testable import Pipeline

@Suite(.serialized) struct SAM2StreamingTests {
    static var sam2Path: String { TrackerChoiceTests.sam2Path }

    /// A square moving right over a dark background (64×48).
    static func frame(_ t: Int) -> RGBImage {
        RGBImage(width: 64, height: 48, pixels: (0 ..< 64 * 48 * 3).map { i in
            let x = (i / 3) % 64, y = (i / 3) / 64
            return x >= 5 + (t % 30) && x < 25 + (t % 30) && y >= 10 && y < 30 ? 230 : UInt8(20 + t % 7)
        })
    }

    /// Frames by position, with a record of which ones someone still holds. A frame's pixels are
    /// kept here too (sharing the buffer the reader handed out); `stillHeld` asks for mutable
    /// access to them: Swift copies an array buffer that another value still shares (copy on
    /// write), so the address changes exactly when the frame was not released elsewhere.
    final class CountingFrames {
        var handed: [[UInt8]?]
        var reads = 0
        init(count: Int) { handed = Array(repeating: nil, count: count) }

        func stillHeld(_ s: Int) -> Bool {
            let before = handed[s]!.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
            let after = handed[s]!.withUnsafeMutableBufferPointer { UInt(bitPattern: $0.baseAddress) }
            return before != after
        }
    }

    @Test func theLoopsFramesAreReleasedAndTheMasksAreTheCollectedOnes() throws {
        // A small chunk so that a short clip has several (SAM 2 at the tiny size is slow in a debug build).
        let n = 30, first = 10, chunk = 4
        let sam2 = try SAM2Tracking.load(Self.sam2Path)
        var prompted = PromptMasks(width: 64, height: 48)
        prompted.names = ["a"]
        prompted.masks = [PromptMasks.Entry(object: 0, frame: first, mask: Mask(width: 64, height: 48) { x, y in x >= 15 && x < 35 && y >= 10 && y < 30 })]
        let promptFrames: Set<Int> = [first]

        // The detector itself: a frame held elsewhere is seen as held, a released one is not.
        let probe = CountingFrames(count: 2)
        var holder: [UInt8]? = Self.frame(0).pixels
        probe.handed[0] = holder
        probe.handed[1] = Self.frame(1).pixels
        #expect(probe.stillHeld(0) && !probe.stillHeld(1))
        holder = nil

        // Streamed: each read checks, once, the frames the loop has left behind (more than a
        // chunk away); none may still be held.
        let source = CountingFrames(count: n)
        var checked = Set<Int>(), held: [Int] = []
        let feed = FrameFeed(count: n, kept: Dictionary(uniqueKeysWithValues: promptFrames.map { ($0, Self.frame($0)) }), chunk: chunk) { positions in
            var k = 0
            return {
                guard k < positions.count else { return nil }
                let t = positions[k]
                k += 1
                source.reads += 1
                for s in 0 ..< n where source.handed[s] != nil && !checked.contains(s) && abs(s - t) > chunk {
                    checked.insert(s)
                    if source.stillHeld(s) { held.append(s) }
                }
                let image = Self.frame(t)
                source.handed[t] = image.pixels
                return image
            }
        }
        let streamed = try sam2.propagate(prompted, frameCount: n, frame: feed.frame)
        #expect(held.isEmpty, "frames still held after the loop left them: \(held)")
        #expect(checked.count >= n / 2, "the check ran on \(checked.count) frames")
        // Each frame is decoded about once per pass (forward once, backward once per chunk).
        #expect(source.reads <= n + chunk, "\(source.reads) frame reads for \(n) frames")

        // Collected: the same masks.
        let frames = (0 ..< n).map(Self.frame)
        let collected = try sam2.propagate(prompted, frameCount: n, frame: { frames[$0] })
        for t in 0 ..< n {
            let a = streamed.objects[0].frames[t], b = collected.objects[0].frames[t]
            #expect(a.rle == b.rle && a.confidence == b.confidence && a.lost == b.lost, "frame \(t)")
        }
    }

    /// A collecting feed would fail the test above: the same check on a feed that keeps every frame
    /// it read finds them held (the test can fail).
    @Test func aFeedThatKeepsItsFramesIsCaught() throws {
        let n = 40
        let source = CountingFrames(count: n)
        var cache: [RGBImage] = []
        let feed = FrameFeed(count: n, kept: [:]) { positions in
            var k = 0
            return {
                guard k < positions.count else { return nil }
                let image = Self.frame(positions[k])
                source.handed[positions[k]] = image.pixels
                k += 1
                return image
            }
        }
        for t in 0 ..< n { cache.append(try feed.frame(t)) }
        #expect((0 ..< n).allSatisfy(source.stillHeld), "kept frames are seen as held")
        cache.removeAll()
        // Released by the caller, the feed itself holds none of the forward frames.
        let source2 = CountingFrames(count: n)
        let feed2 = FrameFeed(count: n, kept: [:]) { positions in
            var k = 0
            return {
                guard k < positions.count else { return nil }
                let image = Self.frame(positions[k])
                source2.handed[positions[k]] = image.pixels
                k += 1
                return image
            }
        }
        for t in 0 ..< n { _ = try feed2.frame(t) }
        #expect((0 ..< n - 1).allSatisfy { !source2.stillHeld($0) })
        // Backward: only the chunk around the frame asked for is held.
        for t in (0 ..< n).reversed() { _ = try feed2.frame(t) }
        let heldBack = (0 ..< n).filter(source2.stillHeld)
        #expect(heldBack.count <= feed2.chunk && heldBack.allSatisfy { $0 < feed2.chunk }, "\(heldBack)")
    }

    /// From a video file: `track(source:…)` (streamed, decoding twice) gives the tracks of the
    /// two stages on the collected frames, prompts on a middle frame (a backward pass too).
    @Test func streamedFromAVideoEqualsCollected() throws {
        let sam2 = try SAM2Tracking.load(Self.sam2Path)
        let path = TrackerChoiceTests.root.appendingPathComponent("samples/clips/ball.mp4").path
        let source = try FrameSources.open(path)
        let (W, H) = source.frameSize
        let prompts = [ObjectPrompt(name: "ball", frame: 6, prompt: .box(PixelBox(x: 36, y: 136, width: 92, height: 92))),
                       ObjectPrompt(name: "mask", frame: 2, prompt: .mask(Mask(width: W, height: H) { x, y in x < W / 3 && y > H / 2 }))]
        let sampling = SamplingPolicy.uniform(count: 12)
        let streamed = try sam2.track(source: source, sampling: sampling, prompts: prompts, maxSide: 160)
        let decoded = try source.allFrames(sampling, size: .maxSide(160))
        let images = decoded.map(\.image)
        let prompted = try Tracker.promptMasks(frames: images, sourceWidth: W, sourceHeight: H, prompts: prompts, segmenter: sam2.segmenter)
        let collected = try sam2.propagate(prompted, frameCount: images.count, frame: { images[$0] })
        #expect(streamed.frames.map(\.index) == decoded.map(\.index))
        #expect(streamed.tracks.objects.map(\.name) == ["ball", "mask"])
        for o in 0 ..< 2 {
            for t in images.indices {
                let a = streamed.tracks.objects[o].frames[t], b = collected.objects[o].frames[t]
                #expect(a.rle == b.rle && a.confidence == b.confidence, "object \(o) frame \(t)")
            }
        }
        #expect(streamed.tracks.warnings == collected.warnings)
    }
}
