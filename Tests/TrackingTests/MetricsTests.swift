import Foundation
import Testing
@testable import Tracking

/// J and F against the DAVIS toolkit (tools/tracking/davis_reference_eval.py → jf_vectors.json,
/// cross-checked there against davis2017-evaluation's own metrics.py).
@Suite struct MetricsTests {
    struct Pair: Sendable, CustomStringConvertible {
        let name: String, height: Int, width: Int, gt: String, pred: String, j: Double, f: Double
        var description: String { name }
    }

    static let pairs: [Pair] = {
        guard let doc = try? Fixtures.json("jf_vectors.json"), let list = doc["pairs"] as? [[String: Any]] else { return [] }
        return list.map { p in
            Pair(name: p["name"] as! String, height: p["height"] as! Int, width: p["width"] as! Int,
                 gt: p["gt"] as! String, pred: p["pred"] as! String, j: p["J"] as! Double, f: p["F"] as! Double)
        }
    }()

    @Test func fixtureLoaded() { #expect(Self.pairs.count >= 60) }

    // Tolerance 1e-6 is the brief's bar; J and F are ratios of integer counts, so any
    // difference would be a real disagreement, not rounding.
    @Test(arguments: pairs) func jAndFMatchToolkit(_ p: Pair) throws {
        let gt = try RLE(height: p.height, width: p.width, compressed: p.gt).mask()
        let pred = try RLE(height: p.height, width: p.width, compressed: p.pred).mask()
        #expect(abs(DAVISMetrics.jaccard(pred, gt) - p.j) <= 1e-6)
        #expect(abs(DAVISMetrics.boundaryF(pred, gt) - p.f) <= 1e-6)
    }

    @Test(arguments: pairs.filter { $0.height <= 120 }) func fastFMatchesNaiveTwin(_ p: Pair) throws {
        let gt = try RLE(height: p.height, width: p.width, compressed: p.gt).mask()
        let pred = try RLE(height: p.height, width: p.width, compressed: p.pred).mask()
        #expect(DAVISMetrics.boundaryF(pred, gt) == DAVISMetrics.boundaryFNaive(pred, gt))
    }

    @Test func diskHas197OffsetsAtRadius8() {
        #expect(DAVISMetrics.boundaryRadius(width: 854, height: 480) == 8)
        #expect(DAVISMetrics.diskOffsets(radius: 8).count == 197)
    }

    @Test func statisticsMatchToolkit() throws {
        let doc = try Fixtures.json("jf_vectors.json")
        let st = doc["statistics"] as! [String: Any]
        let values = (st["values"] as! [Any]).map { ($0 as? Double) ?? .nan }
        let s = DAVISMetrics.statistics(values)
        #expect(abs(s.mean - (st["mean"] as! Double)) < 1e-12)
        #expect(abs(s.recall - (st["recall"] as! Double)) < 1e-12)
        #expect(abs(s.decay - (st["decay"] as! Double)) < 1e-12)
    }
}
