// `gar eval-track DATASET --prompts`: accuracy and cost of prompt → mask (no tracking) on a
// DAVIS-layout folder. For the first, middle and last frame of each sequence and every object
// of that frame's annotation, three prompts derived from the ground truth:
//   box        the object's tight bounding box;
//   click      one positive click at the object's pole of inaccessibility (the inside pixel
//              farthest from the background or the image border; first in raster order on ties);
//   box+click  both.
// Each prompt goes through `PromptSegmenter.mask`; the result is scored by IoU with the ground
// truth (0 when the segmentation comes out empty), and its wall and CPU time are recorded.
import Foundation
import Tracking
import Video

public struct PromptEvalOptions: Sendable {
    public var dataset: String
    public var sequences: [String]? = nil
    public var resolution = "480p"
    public var quiet = false
    /// Use GrabCut's naive twin (the before/after comparison of the fast one).
    public var naiveGrabCut = false
    public init(dataset: String) { self.dataset = dataset }
}

public struct PromptEvalRow: Sendable, Codable {
    public var sequence: String
    public var frame: Int
    public var object: Int
    public var kind: String
    public var iou: Double
    public var ms: Double
    public var cpuMs: Double
    /// IoU of the box itself (as a filled mask) with the object; nil for the click prompt.
    public var boxIoU: Double?

    enum CodingKeys: String, CodingKey {   // "box_iou", not the strategy's "box_io_u"
        case sequence, frame, object, kind, iou, ms, cpuMs
        case boxIoU = "box_iou"
    }
}

public struct PromptEvalSummary: Sendable, Codable {
    public var kind: String
    public var count: Int
    public var meanIoU: Double, medianIoU: Double
    public var meanMs: Double, maxMs: Double, meanCpuMs: Double
    public var meanBoxIoU: Double?

    enum CodingKeys: String, CodingKey {
        case kind, count, meanMs, maxMs, meanCpuMs
        case meanIoU = "mean_iou", medianIoU = "median_iou", meanBoxIoU = "mean_box_iou"
    }
}

public struct PromptEvalReport: Sendable, Codable {
    public var dataset: String
    public var rows: [PromptEvalRow]
    public var summaries: [PromptEvalSummary]
    public var threads: Int
    public var naiveGrabCut: Bool
    public var loadBefore: Double?, loadAfter: Double?
    /// README "JSON outputs" (`eval-track --prompts`).
    public var schemaVersion = 2

    public var table: String {
        var s = "| prompt | n | mean IoU | median IoU | ms (mean / max) | CPU ms (mean) |\n|---|---|---|---|---|---|\n"
        for q in summaries {
            s += String(format: "| %@ | %d | %.3f | %.3f | %.0f / %.0f | %.0f |\n", q.kind as NSString, q.count, q.meanIoU, q.medianIoU,
                        q.meanMs, q.maxMs, q.meanCpuMs)
        }
        if let b = summaries.first(where: { $0.kind == "box" })?.meanBoxIoU {
            s += String(format: "(the tight box itself as a mask: mean IoU %.3f)\n", b)
        }
        let load = { (v: Double?) in v.map { String(format: "%.2f", $0) } ?? "n/a" }
        s += "\(naiveGrabCut ? "naive" : "fast") GrabCut, \(threads) threads; load average before \(load(loadBefore)), after \(load(loadAfter))\n"
        return s
    }
}

public enum PromptEvalJob {
    public static let kinds = ["box", "click", "box+click"]

    /// The inside pixel farthest from the background, counting everything outside the image as
    /// background (first in raster order on ties); nil for an empty mask.
    public static func poleOfInaccessibility(_ m: Mask) -> PromptPoint? {
        guard !m.isEmpty else { return nil }
        let w = m.width, h = m.height
        let d = Morphology.squaredDistance(m.bits, width: w, height: h, to: 0)
        var best = -1, bestD: Float = -1
        for y in 0..<h { for x in 0..<w where m.bits[y * w + x] != 0 {
            let border = Float(min(x + 1, w - x, y + 1, h - y))
            let di = min(d[y * w + x], border * border)
            if di > bestD { bestD = di; best = y * w + x }
        } }
        return PromptPoint(x: best % w, y: best / w)
    }

    public static func run(_ o: PromptEvalOptions) throws -> PromptEvalReport {
        let fm = FileManager.default
        let root = URL(fileURLWithPath: o.dataset)
        let ann = root.appendingPathComponent("Annotations/\(o.resolution)")
        let img = root.appendingPathComponent("JPEGImages/\(o.resolution)")
        guard fm.fileExists(atPath: ann.path), fm.fileExists(atPath: img.path) else {
            throw PipelineError.invalidInput(what: o.dataset, reason: "no Annotations/\(o.resolution) or JPEGImages/\(o.resolution) folder (expected the DAVIS layout)")
        }
        let all = try fm.contentsOfDirectory(atPath: ann.path).filter { !$0.hasPrefix(".") }.sorted()
        let seqs = o.sequences ?? all
        for s in seqs where !all.contains(s) {
            throw PipelineError.invalidInput(what: "--sequences \(s)", reason: "no such sequence in \(ann.path)")
        }
        let progress = Progress("eval-track --prompts", total: seqs.count, quiet: o.quiet)
        let loadBefore = EvalTrackJob.loadAverage()
        var rows: [PromptEvalRow] = []
        for s in seqs {
            let names = try fm.contentsOfDirectory(atPath: ann.appendingPathComponent(s).path)
                .filter { $0.lowercased().hasSuffix(".png") }.sorted { FrameFolder.naturalLess($0, $1) }
            guard !names.isEmpty else { throw PipelineError.invalidInput(what: "sequence \(s)", reason: "no annotation PNGs") }
            for t in Set([0, names.count / 2, names.count - 1]).sorted() {
                let base = (names[t] as NSString).deletingPathExtension
                let candidates = ["jpg", "jpeg", "png"].map { img.appendingPathComponent("\(s)/\(base).\($0)").path }
                guard let framePath = candidates.first(where: { fm.fileExists(atPath: $0) }) else {
                    throw PipelineError.invalidInput(what: "sequence \(s)", reason: "no frame image \(base).jpg (or .jpeg, .png) for annotation \(names[t])")
                }
                let frame = try ImageIO.readRGB(framePath)
                let g = try ImageIO.readLabels(ann.appendingPathComponent("\(s)/\(names[t])").path)
                guard g.width == frame.width && g.height == frame.height else {
                    throw TrackingError.sizeMismatch(what: "annotation \(s)/\(names[t])", got: (g.width, g.height), expected: (frame.width, frame.height))
                }
                let binary = g.pixels.allSatisfy { $0 == 0 || $0 == 255 }
                let map = LabelMap(width: g.width, height: g.height, labels: binary ? g.pixels.map { $0 == 255 ? 1 : 0 } : g.pixels)
                for k in 1...max(1, map.maxLabel) {
                    let truth = map.mask(k)
                    guard let box = truth.boundingBox, let click = poleOfInaccessibility(truth) else { continue }
                    let boxMask = Mask(width: truth.width, height: truth.height) { x, y in
                        x >= box.x && x <= box.x2 && y >= box.y && y <= box.y2
                    }
                    for kind in kinds {
                        let prompt: RegionPrompt
                        switch kind {
                        case "box": prompt = .box(box)
                        case "click": prompt = RegionPrompt(points: [click])
                        default: prompt = RegionPrompt(box: box, points: [click])
                        }
                        let t0 = Date(), c0 = EvalTrackJob.cpuMs()
                        // A segmentation that comes out empty is an error for the user; here it scores 0.
                        var iou = 0.0
                        do {
                            iou = try PromptSegmenter.mask(for: prompt, on: frame, what: "\(s) frame \(t) object \(k)",
                                                           naiveGrabCut: o.naiveGrabCut).iou(truth)
                        } catch TrackingError.emptyMask {}
                        let ms = Date().timeIntervalSince(t0) * 1000, cpu = EvalTrackJob.cpuMs() - c0
                        rows.append(PromptEvalRow(sequence: s, frame: t, object: k, kind: kind, iou: iou, ms: ms, cpuMs: cpu,
                                                  boxIoU: kind == "click" ? nil : boxMask.iou(truth)))
                    }
                }
            }
            progress.advance(note: s)
        }
        progress.finish()
        let summaries = kinds.map { kind -> PromptEvalSummary in
            let r = rows.filter { $0.kind == kind }
            let ious = r.map(\.iou).sorted()
            let median = ious.isEmpty ? 0 : (ious.count % 2 == 1 ? ious[ious.count / 2] : (ious[ious.count / 2 - 1] + ious[ious.count / 2]) / 2)
            func mean(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count) }
            let boxIoUs = r.compactMap(\.boxIoU)
            return PromptEvalSummary(kind: kind, count: r.count, meanIoU: mean(ious), medianIoU: median, meanMs: mean(r.map(\.ms)),
                                     maxMs: r.map(\.ms).max() ?? 0, meanCpuMs: mean(r.map(\.cpuMs)),
                                     meanBoxIoU: boxIoUs.isEmpty ? nil : mean(boxIoUs))
        }
        return PromptEvalReport(dataset: o.dataset, rows: rows, summaries: summaries, threads: Parallel.workers,
                                naiveGrabCut: o.naiveGrabCut, loadBefore: loadBefore, loadAfter: EvalTrackJob.loadAverage())
    }
}
