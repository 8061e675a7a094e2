import Foundation

// Which frames to take. Pure functions of the frame timeline (frame k's time in seconds), so
// every rule here is unit-tested without decoding anything.
//
// Frame numbering: frame k is the k-th frame a sequential decode from the start outputs (decode
// order = presentation order, after the container's edit list, as decord and PyAV number frames).
// Times are seconds since frame 0 (`Frame.pts`).

/// How `uniform(count:)` spreads `count` picks over the `n` frames of the clip (or window).
public enum UniformRule: String, Sendable, Codable, CaseIterable {
    /// PerceptionLM / transformers `BaseVideoProcessor.sample_frames` (GAR-SPEC §9), the default:
    /// `torch.arange(0, n, n / count).int()` — start at frame 0, step n/count, truncate.
    /// The step and positions are computed as torch does (double step, float32 values).
    /// Quirk: for some (n, count) torch's arange yields count+1 positions whose last equals n
    /// (e.g. n=17, count=7), an index past the end; we drop it, so such requests get `count`.
    case plm
    /// VideoRefer (its `mm_utils.frame_sample`, VideoLLaMA2 "v1"): segment size
    /// s = (n-1)/count, pick the middle of each segment: `round(s*(i+0.5) + 1e-6)` (numpy
    /// round-half-to-even), i = 0..<count.
    case videorefer
}

/// A sampling request. Results are always in increasing frame order without duplicates.
public enum SamplingPolicy: Sendable, Equatable {
    /// Every frame (of the window).
    case all
    /// `count` frames spread over the clip or window by `rule` (default `.plm`). If count >= n,
    /// every frame is taken once.
    case uniform(count: Int, rule: UniformRule = .plm)
    /// Every K-th frame of the clip or window, starting with its first frame.
    case every(Int)
    /// R frames per second: at times w0, w0 + 1/R, ... (w0 = window start, else 0) take the frame
    /// on screen (the last frame whose time <= t). Duplicates collapse when R exceeds the
    /// frame rate.
    case fps(Double)
    /// Explicit frame indices (decode-order numbering). No window.
    case indices([Int])
    /// Explicit times in seconds: the frame on screen at each time. No window.
    case times([Double])
}

extension SamplingPolicy: CustomStringConvertible {
    public var description: String {
        switch self {
        case .all: return "all"
        case let .uniform(count, rule): return "uniform(count: \(count), rule: \(rule.rawValue))"
        case let .every(k): return "every(\(k))"
        case let .fps(r): return "fps(\(r))"
        case let .indices(list): return "indices(\(list.map(String.init).joined(separator: ",")))"
        case let .times(list): return "times(\(list.map { "\($0)" }.joined(separator: ",")))"
        }
    }
}

public enum FrameSelection {
    /// PLM rule (see `UniformRule.plm`): positions i*step for i < ceil(n/step), step = n/count,
    /// each rounded to float32 as torch stores them, then truncated toward zero.
    public static func uniformPLM(total n: Int, count: Int) -> [Int] {
        precondition(n >= 0 && count > 0)
        if n == 0 { return [] }
        if count >= n { return Array(0..<n) }
        let step = Double(n) / Double(count)
        let size = Int((Double(n) / step).rounded(.up))
        var out: [Int] = []
        out.reserveCapacity(size)
        for i in 0..<size {
            out.append(Int(Float(Double(i) * step)))
        }
        return dedupSorted(out.filter { $0 < n })
    }

    /// VideoRefer rule (see `UniformRule.videorefer`).
    public static func uniformVideoRefer(total n: Int, count: Int) -> [Int] {
        precondition(n >= 0 && count > 0)
        if n == 0 { return [] }
        if count >= n { return Array(0..<n) }
        let seg = Double(n - 1) / Double(count)
        var out: [Int] = []
        for i in 0..<count {
            let mid = (seg * Double(i) + seg * Double(i + 1)) / 2
            out.append(Int((mid + 1e-6).rounded(.toNearestOrEven)))
        }
        return dedupSorted(out.map { min(max($0, 0), n - 1) })
    }

    /// The frame on screen at time `t`: the last index whose time is <= t (+1 µs tolerance);
    /// `times` ascending. Times before the first frame give the first frame.
    static func frameOnScreen(at t: Double, times: [Double]) -> Int {
        var lo = 0, hi = times.count   // first index with times[i] > t + eps
        while lo < hi {
            let mid = (lo + hi) / 2
            if times[mid] <= t + 1e-6 { lo = mid + 1 } else { hi = mid }
        }
        return max(0, lo - 1)
    }

    /// Resolves a policy to frame indices.
    ///   times:     time (seconds since frame 0) of every frame, ascending; count = frame total
    ///   duration:  end of the last frame's display (seconds); times past it are out of range
    ///   window:    optional [start, end] seconds restricting `all/uniform/every/fps`
    /// Throws `invalidRequest`/`indexOutOfRange` (path names the input in the message).
    public static func resolve(_ policy: SamplingPolicy, times: [Double], duration: Double,
                               window: ClosedRange<Double>?, path: String) throws -> [Int] {
        let n = times.count
        // Frames inside the window (all frames without one).
        var lo = 0, hi = n
        if let window {
            switch policy {
            case .indices, .times:
                throw VideoError.invalidRequest(path: path, reason: "a --start/--end window does not apply to explicit indices or times")
            default: break
            }
            lo = times.firstIndex { $0 >= window.lowerBound - 1e-6 } ?? n
            hi = (times.lastIndex { $0 <= window.upperBound + 1e-6 } ?? -1) + 1
            if lo >= hi {
                let shown = window.upperBound < 1e300 ? "\(window.lowerBound)...\(window.upperBound) s" : "from \(window.lowerBound) s on"
                throw VideoError.invalidRequest(path: path, reason: "no frame lies in the window \(shown) (the video lasts \(fmt(duration)) s)")
            }
        }
        let m = hi - lo
        switch policy {
        case .all:
            return Array(lo..<hi)
        case let .uniform(count, rule):
            guard count > 0 else { throw VideoError.invalidRequest(path: path, reason: "uniform sampling needs a count > 0") }
            let picks = rule == .plm ? uniformPLM(total: m, count: count) : uniformVideoRefer(total: m, count: count)
            return picks.map { $0 + lo }
        case let .every(k):
            guard k > 0 else { throw VideoError.invalidRequest(path: path, reason: "--every needs K > 0") }
            return Array(stride(from: lo, to: hi, by: k))
        case let .fps(r):
            guard r > 0, r.isFinite else { throw VideoError.invalidRequest(path: path, reason: "--fps needs a rate > 0") }
            let start = window?.lowerBound ?? 0
            let end = min(window?.upperBound ?? .infinity, times[n - 1])
            let windowTimes = Array(times[lo..<hi])
            var out: [Int] = []
            // Sample j is at start + j/r. Rather than visiting every sample (a rate far above the
            // frame rate would mean billions of them), jump from a frame to the last sample
            // before the next frame can be on screen. j is a Double: a huge rate exceeds Int.
            var j = 0.0
            while true {
                let t = start + j / r
                if t > end + 1e-6 { break }
                let k = frameOnScreen(at: t, times: windowTimes)
                if out.last != lo + k { out.append(lo + k) }
                guard k + 1 < windowTimes.count else { break }
                // First j with start + j/r + 1e-6 >= time of frame k+1, minus one against rounding.
                let next = ((windowTimes[k + 1] - 1e-6 - start) * r).rounded(.up) - 1
                let after = max(j + 1, next)
                j = after > j ? after : j.nextUp   // past 2^53, j + 1 == j
            }
            return out
        case let .indices(list):
            guard !list.isEmpty else { throw VideoError.invalidRequest(path: path, reason: "no frame indices given") }
            for i in list {
                if i < 0 { throw VideoError.invalidRequest(path: path, reason: "frame index \(i) is negative") }
                if i >= n { throw VideoError.indexOutOfRange(path: path, index: i, frameCount: n) }
            }
            return dedupSorted(list.sorted())
        case let .times(list):
            guard !list.isEmpty else { throw VideoError.invalidRequest(path: path, reason: "no times given") }
            var out: [Int] = []
            for t in list {
                if t < 0 || !t.isFinite { throw VideoError.invalidRequest(path: path, reason: "time \(t) s is negative or not a number") }
                if t >= duration - 1e-9 {
                    throw VideoError.invalidRequest(path: path, reason: "time \(t) s is past the end (the video lasts \(fmt(duration)) s)")
                }
                out.append(frameOnScreen(at: t, times: times))
            }
            return dedupSorted(out.sorted())
        }
    }

    static func dedupSorted(_ a: [Int]) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(a.count)
        for x in a where out.last != x { out.append(x) }
        return out
    }

    private static func fmt(_ x: Double) -> String { String(format: "%.3f", x) }
}
