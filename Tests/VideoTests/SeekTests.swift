// Exact frame identity: seek-based sampling returns byte-identical frames to a sequential decode
// at the same indices, on every clip (VFR, edit list, open-GOP HEVC, fragmented MP4, AVI, ...).
import Foundation
import Testing
@testable import Video

@Suite(.serialized) struct SeekTests {
    /// Clips whose packet index cannot be trusted (no pts in AVI with B-frames): sequential only.
    static let unseekable: Set<String> = ["mpeg4.avi"]

    @Test(arguments: Fixtures.clips)
    func timelineMatchesSequentialDecode(clip: String) throws {
        let path = Fixtures.clip(clip)
        let reader = try VideoReader(path: path)
        let timeline = try reader.timeline()
        let frames = try Fixtures.sequential(path)
        #expect(timeline.count == frames.count, "\(clip): index \(timeline.count) frames, decode \(frames.count)")
        #expect(try reader.countFrames() == frames.count)
        #expect(try reader.countFramesByDecoding() == frames.count)
        #expect(timeline.seekable == !Self.unseekable.contains(clip), "\(clip): seekable=\(timeline.seekable) (\(timeline.note ?? ""))")
        // Frame times: the sequential decode's pts equal the index's, and start at 0.
        #expect(frames.first?.pts == 0)
        for (f, t) in zip(frames, timeline.seconds) {
            #expect(abs(f.pts - t) < 1e-9, "\(clip) frame \(f.index): pts \(f.pts) vs index \(t)")
        }
        #expect(zip(timeline.seconds, timeline.seconds.dropFirst()).allSatisfy { $0 < $1 }, "times increase")
    }

    /// Index sets that make the sampler seek forward, decode through, hit keyframes, the last frame
    /// and neighbours of keyframes.
    static func indexSets(count n: Int) -> [[Int]] {
        [
            [n - 1],
            [0, n - 1],
            [1, 2, n / 2, n / 2 + 1, n - 2],
            Array(stride(from: 3, to: n, by: max(1, n / 7))),
            FrameSelection.uniformPLM(total: n, count: 16),
            FrameSelection.uniformVideoRefer(total: n, count: 8),
            Array(stride(from: n - 1, through: 0, by: -max(1, n / 5))),   // given in reverse order
        ]
    }

    @Test(arguments: Fixtures.clips)
    func seekSamplingIsIdenticalToSequential(clip: String) throws {
        let path = Fixtures.clip(clip)
        let all = try Fixtures.sequential(path)
        // Frames on both sides of every keyframe (open-GOP leading pictures sit just before one).
        let keys = try VideoReader(path: path).timeline().keyframes.map(\.firstFrame)
        let aroundKeys = keys.flatMap { [$0 - 2, $0 - 1, $0, $0 + 1] }.filter { $0 >= 0 && $0 < all.count }
        let singles = keys.flatMap { [[max(0, $0 - 1)], [$0]] }
        for indices in Self.indexSets(count: all.count) + [aroundKeys] + singles where !indices.isEmpty {
            let reader = try VideoReader(path: path)
            let stream = try reader.frames(.indices(indices))
            let got = try stream.collect()
            let want = Array(Set(indices)).sorted()
            #expect(got.map(\.index) == want, "\(clip): indices \(indices)")
            for f in got {
                #expect(f.image == all[f.index].image, "\(clip): frame \(f.index) differs from the sequential decode")
                #expect(f.pts == all[f.index].pts)
            }
        }
    }

    /// On the 300-frame barcode clip (1-s GOPs), sparse sampling really seeks and decodes far
    /// fewer frames than the clip has, and every returned frame shows its own index.
    @Test func sparseSamplingSeeks() throws {
        let reader = try VideoReader(path: Fixtures.clip("barcode.mp4"))
        let stream = try reader.frames(.uniform(count: 8))
        let frames = try stream.collect()
        #expect(frames.map(\.index) == FrameSelection.uniformPLM(total: 300, count: 8))
        #expect(frames.allSatisfy { Fixtures.barcode($0.image) == $0.index })
        #expect(stream.seeks >= 7, "seeks: \(stream.seeks)")
        // Each pick costs at most one GOP (25 frames) plus decoder delay.
        #expect(stream.decodedFrames < 8 * 30, "decoded \(stream.decodedFrames) frames for 8 picks")
    }

    /// Dense sampling decodes through instead of seeking (never more than one pass).
    @Test func denseSamplingDecodesThrough() throws {
        let reader = try VideoReader(path: Fixtures.clip("barcode.mp4"))
        let stream = try reader.frames(.every(2), window: 2.0...6.0)
        let frames = try stream.collect()
        #expect(frames.map(\.index) == Array(stride(from: 50, through: 150, by: 2)))
        #expect(stream.seeks <= 1)
        #expect(stream.decodedFrames <= 300)
        #expect(frames.allSatisfy { Fixtures.barcode($0.image) == $0.index })
    }
}

extension SeekTests {
    /// One reader serves several requests; the cached index/timeline must not change the answers.
    @Test(arguments: ["mpeg4.avi", "barcode.mp4"])
    func readerIsReusable(clip: String) throws {
        let reader = try VideoReader(path: Fixtures.clip(clip))
        let a = try reader.frames(.uniform(count: 5)).collect()
        let b = try reader.frames(.uniform(count: 5)).collect()
        let c = try reader.frames(.indices(a.map(\.index))).collect()
        #expect(a.map(\.index) == b.map(\.index) && a.map(\.index) == c.map(\.index))
        #expect(zip(a, b).allSatisfy { $0.image == $1.image } && zip(a, c).allSatisfy { $0.image == $1.image })
        #expect(a.allSatisfy { Fixtures.barcode($0.image) == $0.index })
    }
}

extension SeekTests {
    /// Seeking is really exercised on every clip with more than one keyframe (incl. VFR, edit
    /// list, open-GOP HEVC, TS, fragmented MP4): the last frame is reached without decoding the
    /// whole clip, and equals the sequential decode's last frame.
    @Test(arguments: Fixtures.clips)
    func lastFrameIsReachedBySeeking(clip: String) throws {
        let path = Fixtures.clip(clip)
        let reader = try VideoReader(path: path)
        let timeline = try reader.timeline()
        guard timeline.seekable, timeline.keyframes.count > 1 else { return }   // one GOP: nothing to skip
        let n = timeline.count
        let stream = try reader.frames(.indices([n - 1]))
        let last = try #require(try stream.collect().first)
        #expect(stream.seeks >= 1, "\(clip): no seek")
        #expect(stream.decodedFrames < n, "\(clip): decoded \(stream.decodedFrames) of \(n)")
        let sequentialLast = try Fixtures.sequential(path).last
        #expect(last.image == sequentialLast?.image)
    }
}
