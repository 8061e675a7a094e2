// Streaming tracking (issue 13 point 4): `Tracker.track(source:)` decodes, propagates and drops
// each frame, keeping only the frames the backward pass needs and the masks as RLE. Its tracks
// must be exactly those of the in-memory path on the same frames.
import Foundation
import Testing
@testable import Tracking
import Video

@Suite struct StreamingTrackerTests {
    static let clip = SyntheticClip.standard(width: 160, height: 96, count: 12)

    /// Two objects: one from a box on frame 0 with a re-prompt on frame 8, one from a mask on
    /// frame 5 (a backward pass over frames 5 … 0).
    static let prompts: [ObjectPrompt] = [
        ObjectPrompt(name: "ellipse", frame: 0, prompt: .box(clip.masks[0][0].boundingBox!)),
        ObjectPrompt(name: "box", frame: 5, prompt: .mask(clip.masks[1][5])),
        ObjectPrompt(name: "ellipse", frame: 8, prompt: .mask(clip.masks[0][8])),
    ]

    static func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gar-streaming-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (t, f) in clip.frames.enumerated() { try ImageIO.writePNG(f, to: dir.appendingPathComponent(String(format: "%03d.png", t)).path) }
        return dir
    }

    @Test func streamingGivesTheTracksOfTheInMemoryPath() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try FrameSources.open(dir.path)
        var seen: [Int] = []
        var steps: [(Int, Int)] = []
        let streamed = try Tracker.track(source: source, prompts: Self.prompts, progress: { steps.append(($0, $1)) },
                                         onFrame: { seen.append($0.index) })
        let reference = try Tracker.track(frames: Self.clip.frames, sourceWidth: 160, sourceHeight: 96, prompts: Self.prompts)
        #expect(seen == Array(0 ..< 12) && streamed.frames.map(\.index) == Array(0 ..< 12))
        #expect(streamed.tracks.objects.map(\.name) == ["ellipse", "box"])
        #expect(streamed.tracks.warnings == reference.warnings)
        for (a, b) in zip(streamed.tracks.objects, reference.objects) {
            #expect(a.frames.count == 12)
            for t in 0 ..< 12 {
                #expect(a.frames[t].mask == b.frames[t].mask, "\(a.name) frame \(t)")
                #expect(a.frames[t].confidence == b.frames[t].confidence && a.frames[t].lost == b.frames[t].lost)
            }
        }
        #expect(streamed.tracks.objects[1].frames[0].hasMask, "the backward pass reached frame 0")
        // 12 forward steps + 6 backward (frames 5 … 0).
        #expect(steps.last.map { $0.0 } == 18 && steps.last.map { $0.1 } == 18)
    }

    @Test func promptOnAFrameThatNeverComesIsAnError() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let late = [ObjectPrompt(name: "a", frame: 12, prompt: .mask(Self.clip.masks[0][0]))]
        #expect(throws: TrackingError.frameOutOfRange(frame: 12, count: 12)) {
            _ = try Tracker.track(source: try FrameSources.open(dir.path), prompts: late)
        }
    }

    /// The run keeps only the frames up to the last object's first prompt (the backward pass's).
    @Test func theRunKeepsOnlyTheBackwardPassFrames() throws {
        let frames = Self.clip.frames
        for (firstPrompts, kept) in [([0, 0], 1), ([0, 4], 5), ([3, 7], 8)] {
            var run = PropagationRun(names: ["a", "b"], promptFrames: [(0, firstPrompts[0]), (1, firstPrompts[1])], width: 160, height: 96,
                                     options: Tracker.Options(), propagator: nil, frameCount: nil, progress: nil)
            run.addPromptMasks([PromptMasks.Entry(object: 0, frame: firstPrompts[0], mask: Self.clip.masks[0][firstPrompts[0]]),
                                PromptMasks.Entry(object: 1, frame: firstPrompts[1], mask: Self.clip.masks[1][firstPrompts[1]])])
            for f in frames { try run.add(f) }
            #expect(run.kept.count == kept, "\(firstPrompts)")
            let tracks = run.finish()
            #expect(run.kept.isEmpty && tracks.allSatisfy { $0.frames.count == frames.count })
        }
    }

    @Test func trackedMasksAreStoredAsRLE() {
        let m = Self.clip.masks[0][3]
        var t = TrackedMask(mask: m, confidence: 0.5, lost: false)
        #expect(t.hasMask && t.mask == m && t.rle == RLE(m))
        t.mask = nil
        #expect(!t.hasMask && t.mask == nil && t.rle == nil)
        #expect(RLE(m).counts.count * MemoryLayout<Int>.size < m.bits.count / 10, "compact: the RLE is far smaller than the bitmap")
    }
}
