// Stage-by-stage comparison with a reference that names the FIRST stage that diverges
// (STYLE.md §7 rule 5; ARCHITECTURE.md §5). Every check carries its tolerance and the reason.
import Foundation
import Testing

/// Maximum |a − b| and max |b| of two equal-length arrays.
func maxAbsDiff(_ a: [Float], _ b: [Float]) -> (diff: Double, scale: Double) {
    precondition(a.count == b.count, "maxAbsDiff: \(a.count) vs \(b.count)")
    var d = 0.0, s = 0.0
    for i in a.indices {
        d = max(d, abs(Double(a[i]) - Double(b[i])))
        s = max(s, abs(Double(b[i])))
    }
    return (d, s)
}

/// Collects named stage checks in pipeline order; `report()` fails the test naming the first one
/// that exceeds its tolerance and prints all of them.
struct StageChecks {
    struct Entry {
        var stage: String
        var passed: Bool
        var detail: String
    }
    private(set) var entries: [Entry] = []
    let caseName: String

    init(_ caseName: String) { self.caseName = caseName }

    /// `ours` vs `reference`: passes when max |Δ| ≤ `relative` · max |reference| (+ `absolute`).
    mutating func close(_ stage: String, _ ours: [Float]?, _ reference: [Float], relative: Double, absolute: Double = 0) {
        guard let ours else {
            entries.append(Entry(stage: stage, passed: false, detail: "not produced"))
            return
        }
        guard ours.count == reference.count else {
            entries.append(Entry(stage: stage, passed: false, detail: "\(ours.count) values, reference has \(reference.count)"))
            return
        }
        let (d, s) = maxAbsDiff(ours, reference)
        let tol = relative * s + absolute
        entries.append(Entry(stage: stage, passed: d <= tol,
                             detail: String(format: "max|Δ| %.3g, max|ref| %.3g, rel %.3g (tol %.3g)", d, s, s > 0 ? d / s : d, tol)))
    }

    /// Exact equality of anything Equatable.
    mutating func equal<T: Equatable>(_ stage: String, _ ours: T, _ reference: T, describe: (T) -> String = { "\($0)" }) {
        let ok = ours == reference
        entries.append(Entry(stage: stage, passed: ok, detail: ok ? "identical" : "ours \(describe(ours).prefix(300)) vs reference \(describe(reference).prefix(300))"))
    }

    var firstFailure: Entry? { entries.first { !$0.passed } }

    /// Records the outcome with Swift Testing.
    func report(sourceLocation: SourceLocation = #_sourceLocation) {
        let table = entries.map { "  \($0.passed ? "ok  " : "FAIL") \($0.stage): \($0.detail)" }.joined(separator: "\n")
        if let f = firstFailure {
            Issue.record("\(caseName): first diverging stage: \(f.stage) (\(f.detail))\n\(table)", sourceLocation: sourceLocation)
        } else if ProcessInfo.processInfo.environment["GAR_TEST_VERBOSE"] != nil {
            print("\(caseName): all \(entries.count) stages match\n\(table)")
        }
    }
}

/// Rows 0, step, 2·step, … of a `[rows, cols]` array (the goldens' strided "rows").
func stridedRows(_ values: [Float], cols: Int, step: Int = 31) -> [Float] {
    var out: [Float] = []
    var r = 0
    while r * cols < values.count {
        out += values[(r * cols) ..< ((r + 1) * cols)]
        r += step
    }
    return out
}

/// Sums of each row of a `[rows, cols]` array, in Double (the goldens' "row_sums").
func rowSums(_ values: [Float], cols: Int) -> [Float] {
    stride(from: 0, to: values.count, by: cols).map { start in
        var s = 0.0
        for i in start ..< start + cols { s += Double(values[i]) }
        return Float(s)
    }
}
