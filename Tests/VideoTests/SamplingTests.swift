// Sampling rules as pure functions: the uniform rules against goldens from the reference code
// (torch / numpy, Tests/Fixtures/video/make_uniform_rules.py), and every policy's resolution.
import Foundation
import Testing
@testable import Video

@Suite struct SamplingTests {
    struct Golden: Decodable {
        struct Case: Decodable { var total: Int; var count: Int; var plm: [Int]; var videorefer: [Int] }
        var cases: [Case]
    }

    @Test func uniformRulesMatchTheReferenceCode() throws {
        let url = Fixtures.root.appendingPathComponent("Tests/Fixtures/video/uniform_rules.json")
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
        #expect(golden.cases.count > 1000)
        for c in golden.cases {
            // Our results are sorted and unique, and never past the end: torch's arange can return
            // count+1 positions, the last == total (e.g. total 17, count 7), which we drop.
            let plm = FrameSelection.uniformPLM(total: c.total, count: c.count)
            #expect(plm == FrameSelection.dedupSorted(c.plm.filter { $0 < c.total }), "plm total=\(c.total) count=\(c.count)")
            let vr = FrameSelection.uniformVideoRefer(total: c.total, count: c.count)
            #expect(vr == FrameSelection.dedupSorted(c.videorefer), "videorefer total=\(c.total) count=\(c.count)")
        }
    }

    @Test func plmQuirkPastTheEndIsDropped() {
        // torch.arange(0, 17, 17/7) has 8 values, the last 17.0: index 17 of a 17-frame clip.
        #expect(FrameSelection.uniformPLM(total: 17, count: 7) == [0, 2, 4, 7, 9, 12, 14])
    }

    @Test func uniformWithMoreFramesThanTheClipTakesEveryFrameOnce() {
        #expect(FrameSelection.uniformPLM(total: 5, count: 16) == [0, 1, 2, 3, 4])
        #expect(FrameSelection.uniformVideoRefer(total: 5, count: 16) == [0, 1, 2, 3, 4])
        #expect(FrameSelection.uniformPLM(total: 0, count: 4) == [])
    }

    /// 25 fps timeline of 100 frames: times k/25.
    static let times25 = (0..<100).map { Double($0) / 25 }

    static func resolve(_ p: SamplingPolicy, _ w: ClosedRange<Double>? = nil, times: [Double] = times25) throws -> [Int] {
        try FrameSelection.resolve(p, times: times, duration: (times.last ?? 0) + 0.04, window: w, path: "clip.mp4")
    }

    @Test func policiesResolve() throws {
        #expect(try Self.resolve(.all).count == 100)
        #expect(try Self.resolve(.all, 1.0...2.0) == Array(25...50))
        #expect(try Self.resolve(.every(30)) == [0, 30, 60, 90])
        #expect(try Self.resolve(.every(10), 1.0...2.0) == [25, 35, 45])
        #expect(try Self.resolve(.uniform(count: 4)) == [0, 25, 50, 75])
        #expect(try Self.resolve(.uniform(count: 4, rule: .videorefer)) == [12, 37, 62, 87])
        #expect(try Self.resolve(.uniform(count: 2), 2.0...3.96) == [50, 75])
        #expect(try Self.resolve(.fps(1)) == [0, 25, 50, 75])
        #expect(try Self.resolve(.fps(2), 0.5...1.6) == [13, 25, 37], "only frames inside the window")
        #expect(try Self.resolve(.fps(100)).count == 100, "rates above the frame rate collapse to every frame")
        #expect(try Self.resolve(.indices([9, 3, 3, 0])) == [0, 3, 9])
        #expect(try Self.resolve(.times([0.5, 0.0, 3.99])) == [0, 12, 99])
        #expect(try Self.resolve(.times([0.039])) == [0], "the frame on screen at t is the last with time <= t")
        #expect(try Self.resolve(.times([0.04])) == [1])
    }

    @Test func vfrTimesUseTheFramesOwnTimes() throws {
        // Frames at 0, 0.04, 0.08, 0.12, then a gap to 0.2 (a dropped frame).
        let times = [0, 0.04, 0.08, 0.12, 0.2, 0.24]
        #expect(try Self.resolve(.times([0.13, 0.16, 0.19, 0.2]), times: times) == [3, 4])
        #expect(try Self.resolve(.fps(10), times: times) == [0, 2, 4])
    }

    @Test func badRequestsThrow() {
        let cases: [(SamplingPolicy, ClosedRange<Double>?)] = [
            (.indices([100]), nil), (.indices([-1]), nil), (.indices([]), nil), (.times([4.5]), nil),
            (.times([-1]), nil), (.uniform(count: 0), nil), (.every(0), nil), (.fps(0), nil),
            (.all, 10.0...12.0), (.indices([1]), 0.0...1.0),
        ]
        for (p, w) in cases {
            do {
                _ = try Self.resolve(p, w)
                Issue.record("\(p) window \(String(describing: w)) should throw")
            } catch let e as VideoError {
                #expect(e.description.hasPrefix("clip.mp4: "), "\(e)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        #expect(throws: VideoError.indexOutOfRange(path: "clip.mp4", index: 100, frameCount: 100)) {
            try Self.resolve(.indices([5, 100]))
        }
    }

    @Test func outputSizes() {
        #expect(OutputSize.original.resolve(width: 320, height: 240) == (320, 240))
        #expect(OutputSize.exact(width: 448, height: 448).resolve(width: 320, height: 240) == (448, 448))
        #expect(OutputSize.maxSide(160).resolve(width: 320, height: 240) == (160, 120))
        #expect(OutputSize.maxSide(100).resolve(width: 240, height: 427) == (56, 100))
        #expect(OutputSize.maxSide(1000).resolve(width: 320, height: 240) == (320, 240), "never enlarges")
    }
}
