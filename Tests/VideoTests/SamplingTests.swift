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

    /// The fps rule sample by sample, as written in SamplingPolicy.fps (the naive twin of the
    /// jumping loop in FrameSelection.resolve).
    static func naiveFPS(_ r: Double, times: [Double], window: ClosedRange<Double>?) -> [Int] {
        let lo = window.map { w in times.firstIndex { $0 >= w.lowerBound - 1e-6 } ?? times.count } ?? 0
        let hi = window.map { w in (times.lastIndex { $0 <= w.upperBound + 1e-6 } ?? -1) + 1 } ?? times.count
        let start = window?.lowerBound ?? 0
        let end = min(window?.upperBound ?? .infinity, times[times.count - 1])
        var out: [Int] = []
        var j = 0
        while start + Double(j) / r <= end + 1e-6 {
            out.append(lo + FrameSelection.frameOnScreen(at: start + Double(j) / r, times: Array(times[lo..<hi])))
            j += 1
        }
        return FrameSelection.dedupSorted(out)
    }

    @Test func fpsMatchesTheSampleBySampleRule() throws {
        // A VFR timeline with short and long gaps (2 ms … 90 ms) and rates below, at and above it.
        let gaps = [0.002, 0.02, 0.04, 0.04, 0.09, 0.04, 0.033]
        var times = [0.0]
        for i in 0 ..< 199 { times.append(times.last! + gaps[(i * i + 3 * i) % gaps.count]) }
        for r in [0.3, 1, 7.5, 24.999, 25, 25.001, 60, 333, 1000] {
            for w: ClosedRange<Double>? in [nil, 0.5...2.25, 1.0...100] {
                #expect(try Self.resolve(.fps(r), w, times: times) == Self.naiveFPS(r, times: times, window: w), "fps \(r) window \(String(describing: w))")
            }
        }
    }

    /// A rate of 1e300 used to loop 4e300 times (an allocation trap after 34 GB); 1e9 meant 4e9
    /// samples. Every frame is on screen at some sample, once each.
    @Test func hugeRatesTakeEveryFrameQuickly() throws {
        for r in [1e9, 1e17, 1e300] {
            #expect(try Self.resolve(.fps(r)) == Array(0 ..< 100), "fps \(r)")
            #expect(try Self.resolve(.fps(r), 1.0...2.0) == Array(25 ... 50), "fps \(r) in a window")
        }
    }

    /// `--start` without `--end` is an open window; its message used to print 1.797e308 as the end.
    @Test func openWindowPastTheEndNamesItsStart() {
        #expect(throws: VideoError.invalidRequest(path: "clip.mp4", reason: "no frame lies in the window from 100.0 s on (the video lasts 4.000 s)")) {
            try Self.resolve(.all, 100.0 ... Double.greatestFiniteMagnitude)
        }
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
