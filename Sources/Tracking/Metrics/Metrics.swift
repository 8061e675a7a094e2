// DAVIS metrics: region similarity J (IoU) and boundary F-measure, exactly as the official
// davis2017-evaluation toolkit computes them (`davis2017/metrics.py`: db_eval_iou, f_measure,
// _seg2bmap; `utils.py`: db_statistics). TRACKING.md §5.1 spells the protocol out; the committed
// vectors in Tests/Fixtures/tracking/jf_vectors.json (tools/tracking/davis_reference_eval.py)
// pin it to 1e-6.

public enum DAVISMetrics {
    /// J = |P ∧ G| / |P ∨ G|, and 1 when both are empty.
    public static func jaccard(_ prediction: Mask, _ truth: Mask) -> Double {
        prediction.iou(truth)
    }

    /// Boundary tolerance in pixels: ceil(0.008 · ‖(H, W)‖) (8 px at 854×480).
    public static func boundaryRadius(width: Int, height: Int, threshold: Double = 0.008) -> Int {
        if threshold >= 1 { return Int(threshold) }
        let d = (Double(width * width + height * height)).squareRoot()
        return Int((threshold * d).rounded(.up))
    }

    /// Offsets (dx, dy) of the disk structuring element: dx² + dy² ≤ r² (skimage `disk(r)`;
    /// 197 offsets for r = 8).
    public static func diskOffsets(radius r: Int) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        for dy in -r...r { for dx in -r...r where dx * dx + dy * dy <= r * r { out.append((dx, dy)) } }
        return out
    }

    /// One-pixel-wide boundary map (`_seg2bmap`), row-major bytes 0/1, same size as the mask.
    /// A pixel is on the boundary when it differs from its right, lower or lower-right
    /// neighbour (neighbours outside the image read as 0); on the last row only the right
    /// neighbour counts, on the last column only the lower one, and the corner is never set.
    public static func boundaryMap(_ m: Mask) -> [UInt8] {
        let w = m.width, h = m.height
        var b = [UInt8](repeating: 0, count: w * h)
        m.bits.withUnsafeBufferPointer { s in
            for y in 0..<h {
                for x in 0..<w {
                    let v = s[y * w + x]
                    let e: UInt8 = x + 1 < w ? s[y * w + x + 1] : 0
                    let so: UInt8 = y + 1 < h ? s[(y + 1) * w + x] : 0
                    let se: UInt8 = (x + 1 < w && y + 1 < h) ? s[(y + 1) * w + x + 1] : 0
                    var out: UInt8
                    if y == h - 1 && x == w - 1 { out = 0 }
                    else if y == h - 1 { out = v ^ e }
                    else if x == w - 1 { out = v ^ so }
                    else { out = (v ^ e) | (v ^ so) | (v ^ se) }
                    b[y * w + x] = out
                }
            }
        }
        return b
    }

    /// Dilates a 0/1 map by the disk of radius r by stamping the disk around each set pixel
    /// (boundary maps are sparse, so this is far cheaper than a full sliding window).
    static func dilateSparse(_ b: [UInt8], width w: Int, height h: Int, offsets: [(Int, Int)]) -> [UInt8] {
        var d = [UInt8](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w where b[y * w + x] != 0 {
                for (dx, dy) in offsets {
                    let xx = x + dx, yy = y + dy
                    if xx >= 0 && xx < w && yy >= 0 && yy < h { d[yy * w + xx] = 1 }
                }
            }
        }
        return d
    }

    /// Boundary F-measure (`f_measure` with bound_th = 0.008) of a prediction against the truth.
    public static func boundaryF(_ prediction: Mask, _ truth: Mask, threshold: Double = 0.008) -> Double {
        precondition(prediction.width == truth.width && prediction.height == truth.height)
        let w = truth.width, h = truth.height
        let offsets = diskOffsets(radius: boundaryRadius(width: w, height: h, threshold: threshold))
        let pb = boundaryMap(prediction), gb = boundaryMap(truth)
        let pd = dilateSparse(pb, width: w, height: h, offsets: offsets)
        let gd = dilateSparse(gb, width: w, height: h, offsets: offsets)
        var nP = 0, nG = 0, pMatch = 0, gMatch = 0
        for i in 0..<(w * h) {
            nP += Int(pb[i]); nG += Int(gb[i])
            pMatch += Int(pb[i] & gd[i]); gMatch += Int(gb[i] & pd[i])
        }
        return fScore(nP: nP, nG: nG, pMatch: pMatch, gMatch: gMatch)
    }

    /// Precision/recall/F with the toolkit's special cases for empty boundaries.
    static func fScore(nP: Int, nG: Int, pMatch: Int, gMatch: Int) -> Double {
        let precision: Double, recall: Double
        if nP == 0 && nG > 0 { precision = 1; recall = 0 }
        else if nP > 0 && nG == 0 { precision = 0; recall = 1 }
        else if nP == 0 && nG == 0 { precision = 1; recall = 1 }
        else { precision = Double(pMatch) / Double(nP); recall = Double(gMatch) / Double(nG) }
        return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
    }

    /// Naive twin of `boundaryF`: dilation by scanning the full window around every pixel.
    static func boundaryFNaive(_ prediction: Mask, _ truth: Mask, threshold: Double = 0.008) -> Double {
        let w = truth.width, h = truth.height
        let r = boundaryRadius(width: w, height: h, threshold: threshold)
        let pb = boundaryMap(prediction), gb = boundaryMap(truth)
        func dilated(_ b: [UInt8], _ x: Int, _ y: Int) -> Bool {
            for dy in -r...r { for dx in -r...r where dx * dx + dy * dy <= r * r {
                let xx = x + dx, yy = y + dy
                if xx >= 0 && xx < w && yy >= 0 && yy < h && b[yy * w + xx] != 0 { return true }
            } }
            return false
        }
        var nP = 0, nG = 0, pMatch = 0, gMatch = 0
        for y in 0..<h { for x in 0..<w {
            if pb[y * w + x] != 0 { nP += 1; if dilated(gb, x, y) { pMatch += 1 } }
            if gb[y * w + x] != 0 { nG += 1; if dilated(pb, x, y) { gMatch += 1 } }
        } }
        return fScore(nP: nP, nG: nG, pMatch: pMatch, gMatch: gMatch)
    }

    /// Mean, recall (fraction > 0.5) and decay of per-frame values (`db_statistics`); NaNs are
    /// skipped as `np.nanmean` does. Decay bins: ids = round(linspace(1, N, 5)) − 1.
    public static func statistics(_ values: [Double]) -> (mean: Double, recall: Double, decay: Double) {
        func nanmean<C: Collection>(_ v: C) -> Double where C.Element == Double {
            let ok = v.filter { !$0.isNaN }
            return ok.isEmpty ? .nan : ok.reduce(0, +) / Double(ok.count)
        }
        let mean = nanmean(values)
        let recall = values.isEmpty ? .nan : Double(values.filter { $0 > 0.5 }.count) / Double(values.count)
        let n = values.count
        guard n > 0 else { return (mean, recall, .nan) }
        var ids: [Int] = []
        for i in 0...4 {
            let v = 1 + Double(n - 1) * Double(i) / 4
            ids.append(Int((v + 1e-10).rounded(.toNearestOrEven)) - 1)
        }
        let first = values[ids[0]...min(n - 1, ids[1])]
        let last = values[ids[3]...min(n - 1, ids[4])]
        return (mean, recall, nanmean(first) - nanmean(last))
    }
}

/// Per-object scores of one sequence under the semi-supervised protocol.
public struct SequenceScore: Sendable, Codable, Equatable {
    public var name: String
    /// Per evaluated frame (first and last frame skipped), in frame order.
    public var j: [Double]
    public var f: [Double]
    public var jMean: Double { DAVISMetrics.statistics(j).mean }
    public var fMean: Double { DAVISMetrics.statistics(f).mean }
    public var jAndF: Double { (jMean + fMean) / 2 }

    public init(name: String, j: [Double], f: [Double]) { self.name = name; self.j = j; self.f = f }

    /// Scores one object's predicted masks against its truth over a whole sequence: frames
    /// 1 ... n−2 are evaluated (the first is given, the last is skipped, as the toolkit does).
    public static func evaluate(name: String, predictions: [Mask], truths: [Mask]) -> SequenceScore {
        precondition(predictions.count == truths.count)
        var j: [Double] = [], f: [Double] = []
        if truths.count >= 3 {
            for t in 1..<(truths.count - 1) {
                j.append(DAVISMetrics.jaccard(predictions[t], truths[t]))
                f.append(DAVISMetrics.boundaryF(predictions[t], truths[t]))
            }
        }
        return SequenceScore(name: name, j: j, f: f)
    }
}
