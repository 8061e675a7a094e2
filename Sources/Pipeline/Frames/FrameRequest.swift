// Parsing of the frame-selection options shared by `gar frames` (and any job that samples
// frames): policy, window and output size, from their command-line spellings.
import Foundation
import Video

public enum FrameRequest {
    /// The sampling policy from the mutually exclusive options (none given: every frame).
    ///   count: --count N (with --rule plm|videorefer), every: --every K, fps: --fps R,
    ///   indices: --indices "0,5,9", times: --times "0.5,1.25"
    public static func policy(count: Int?, rule ruleName: String = "plm", every: Int?, fps: Double?,
                              indices: String?, times: String?) throws -> SamplingPolicy {
        guard let rule = UniformRule(rawValue: ruleName) else {
            throw PipelineError.invalidInput(what: "--rule", reason: "expected plm or videorefer, got '\(ruleName)'")
        }
        let given = [count != nil, every != nil, fps != nil, indices != nil, times != nil].filter { $0 }.count
        guard given <= 1 else {
            throw PipelineError.invalidInput(what: "frame selection", reason: "give only one of --count, --every, --fps, --indices, --times")
        }
        if let count {
            guard count > 0 else { throw PipelineError.invalidInput(what: "--count", reason: "must be > 0, got \(count)") }
            return .uniform(count: count, rule: rule)
        }
        if let every {
            guard every > 0 else { throw PipelineError.invalidInput(what: "--every", reason: "must be > 0, got \(every)") }
            return .every(every)
        }
        if let fps {
            guard fps > 0, fps.isFinite else { throw PipelineError.invalidInput(what: "--fps", reason: "must be a finite rate > 0, got \(fps)") }
            return .fps(fps)
        }
        if let indices {
            let list = try parseList(indices, option: "--indices", expected: "frame index >= 0") { Int($0).flatMap { $0 >= 0 ? $0 : nil } }
            return .indices(list)
        }
        if let times {
            let list = try parseList(times, option: "--times", expected: "time in seconds >= 0") { Double($0).flatMap { $0 >= 0 && $0.isFinite ? $0 : nil } }
            return .times(list)
        }
        return .all
    }

    /// The [start, end] window in seconds (nil when neither is given; a missing end means "to the end").
    public static func window(start: Double?, end: Double?) throws -> ClosedRange<Double>? {
        guard start != nil || end != nil else { return nil }
        let s = start ?? 0
        let e = end ?? Double.greatestFiniteMagnitude
        guard s >= 0, s.isFinite, e.isFinite || e == .greatestFiniteMagnitude else {
            throw PipelineError.invalidInput(what: "--start/--end", reason: "times must be finite and >= 0")
        }
        guard s <= e else {
            throw PipelineError.invalidInput(what: "--start/--end", reason: "start \(s) s is after end \(e) s")
        }
        return s...e
    }

    /// Output size from --size WxH or --max-side N (at most one).
    public static func size(_ size: String?, maxSide: Int?) throws -> OutputSize {
        if size != nil && maxSide != nil {
            throw PipelineError.invalidInput(what: "--size/--max-side", reason: "give only one")
        }
        if let maxSide {
            guard maxSide > 0 else { throw PipelineError.invalidInput(what: "--max-side", reason: "must be > 0, got \(maxSide)") }
            return .maxSide(maxSide)
        }
        if let size {
            let parts = size.lowercased().split(separator: "x")
            guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0, w <= 16384, h <= 16384 else {
                throw PipelineError.invalidInput(what: "--size", reason: "expected WxH like 448x448, got '\(size)'")
            }
            return .exact(width: w, height: h)
        }
        return .original
    }

    private static func parseList<T>(_ text: String, option: String, expected: String, _ parse: (String) -> T?) throws -> [T] {
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw PipelineError.invalidInput(what: option, reason: "empty list") }
        // Empty items are kept, and refused: "1,,2" is a typo, not [1, 2].
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        return try items.map { item in
            guard let v = parse(item) else {
                throw PipelineError.invalidInput(what: option, reason: "'\(item)' is not a \(expected)")
            }
            return v
        }
    }
}
