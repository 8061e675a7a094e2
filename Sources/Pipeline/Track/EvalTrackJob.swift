// `gar eval-track`: the DAVIS semi-supervised protocol on a DAVIS-layout folder.
//
//   DATASET/JPEGImages/<res>/<seq>/*.jpg    frames (name order)
//   DATASET/Annotations/<res>/<seq>/*.png   ground truth: palette index per object (DAVIS-2017),
//                                           or 0/255 single-object masks (DAVIS-2016 style, = object 1)
//
// Every object of the first annotation is prompted with its first-frame mask and tracked through
// the sequence (all objects at once); J and F are scored on frames 1 ... n−2 (first given, last
// skipped) exactly as davis2017-evaluation does; a sequence's J (F) is the mean over its objects,
// the dataset mean is over objects. `--baseline copy` scores the first mask copied to all frames.
import Foundation
import Tracking
import Video

public struct EvalTrackOptions: Sendable {
    public var dataset: String
    public var sequences: [String]? = nil
    public var resolution = "480p"
    public var baseline: String? = nil          // nil = gar's tracker; "copy"
    public var saveTo: URL? = nil               // write predicted palette PNGs here
    public var quiet = false
    /// Ablation: the tracker's flow on the whole frame instead of a region around the objects.
    public var wholeFrameFlow = false
    public init(dataset: String) { self.dataset = dataset }
}

public struct EvalTrackSequence: Sendable, Codable {
    public var name: String
    public var objects: Int
    public var frames: Int
    public var J: Double
    public var F: Double
    public var JF: Double
    public var msPerFrame: Double
    /// Process CPU time (all threads) of the tracking per frame step.
    public var cpuMsPerFrame: Double
    /// Per object, per evaluated frame.
    public var perFrameJ: [[Double]]
    public var perFrameF: [[Double]]
}

public struct EvalTrackReport: Sendable, Codable {
    public var method: String
    public var dataset: String
    public var resolution: String
    public var sequences: [EvalTrackSequence]
    public var meanJ: Double, meanF: Double, meanJF: Double, msPerFrame: Double, cpuMsPerFrame: Double
    /// 1-minute load average of the machine before and after the run (/proc/loadavg; nil
    /// where unavailable): the wall times depend on what else ran.
    public var loadBefore: Double?, loadAfter: Double?
    public var threads: Int
    /// README "JSON outputs" (`eval-track`).
    public var schemaVersion = 2

    public var table: String {
        var s = "| sequence | objects | frames | J | F | J&F | ms/frame | CPU ms/frame |\n|---|---|---|---|---|---|---|---|\n"
        for q in sequences {
            s += String(format: "| %@ | %d | %d | %.3f | %.3f | %.3f | %.1f | %.1f |\n", q.name as NSString, q.objects, q.frames,
                        q.J, q.F, q.JF, q.msPerFrame, q.cpuMsPerFrame)
        }
        s += String(format: "| **mean (%@)** | | | %.3f | %.3f | %.3f | %.1f | %.1f |\n", method as NSString, meanJ, meanF, meanJF,
                    msPerFrame, cpuMsPerFrame)
        let load = { (v: Double?) in v.map { String(format: "%.2f", $0) } ?? "n/a" }
        s += "\(threads) threads; load average before \(load(loadBefore)), after \(load(loadAfter))\n"
        return s
    }
}

public enum EvalTrackJob {
    /// Process CPU time (all threads) in milliseconds.
    static func cpuMs() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
    }

    /// The 1-minute load average (first field of /proc/loadavg), nil where there is none.
    static func loadAverage() -> Double? {
        guard let s = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return s.split(separator: " ").first.flatMap { Double($0) }
    }

    public static func run(_ o: EvalTrackOptions) throws -> EvalTrackReport {
        let fm = FileManager.default
        let root = URL(fileURLWithPath: o.dataset)
        let ann = root.appendingPathComponent("Annotations/\(o.resolution)")
        let img = root.appendingPathComponent("JPEGImages/\(o.resolution)")
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: ann.path, isDirectory: &isDir), isDir.boolValue else {
            throw PipelineError.invalidInput(what: o.dataset, reason: "no Annotations/\(o.resolution) folder (expected the DAVIS layout)")
        }
        guard fm.fileExists(atPath: img.path, isDirectory: &isDir), isDir.boolValue else {
            throw PipelineError.invalidInput(what: o.dataset, reason: "no JPEGImages/\(o.resolution) folder (expected the DAVIS layout)")
        }
        let all = try fm.contentsOfDirectory(atPath: ann.path).filter { !$0.hasPrefix(".") }.sorted()
        let seqs = o.sequences ?? all
        for s in seqs where !all.contains(s) {
            throw PipelineError.invalidInput(what: "--sequences \(s)", reason: "no such sequence in \(ann.path)")
        }
        guard !seqs.isEmpty else { throw PipelineError.invalidInput(what: o.dataset, reason: "no sequences found") }
        let progress = Progress("eval-track", total: seqs.count, quiet: o.quiet)
        var rows: [EvalTrackSequence] = []
        var objJ: [Double] = [], objF: [Double] = []
        var totalMs = 0.0, totalCpu = 0.0, totalSteps = 0
        let loadBefore = loadAverage()
        for s in seqs {
            let frameNames = try fm.contentsOfDirectory(atPath: img.appendingPathComponent(s).path)
                .filter { let l = $0.lowercased(); return l.hasSuffix(".jpg") || l.hasSuffix(".jpeg") || l.hasSuffix(".png") }
                .sorted { FrameFolder.naturalLess($0, $1) }
            guard frameNames.count >= 1 else { throw PipelineError.invalidInput(what: "sequence \(s)", reason: "no JPEG or PNG frames") }
            let frames = try frameNames.map { try ImageIO.readRGB(img.appendingPathComponent("\(s)/\($0)").path) }
            let truth = try frameNames.map { name -> GrayImage in
                let png = (name as NSString).deletingPathExtension + ".png"
                return try ImageIO.readLabels(ann.appendingPathComponent("\(s)/\(png)").path)
            }
            let W = frames[0].width, H = frames[0].height
            for (k, g) in truth.enumerated() where g.width != W || g.height != H {
                throw TrackingError.sizeMismatch(what: "annotation \(s)/\(frameNames[k])", got: (g.width, g.height), expected: (W, H))
            }
            // 0/255 annotations are one object; otherwise palette indices 1...max of frame 0.
            let binary = truth.allSatisfy { $0.pixels.allSatisfy { $0 == 0 || $0 == 255 } }
            let maps = truth.map { g in LabelMap(width: W, height: H, labels: binary ? g.pixels.map { $0 == 255 ? 1 : 0 } : g.pixels) }
            let nObj = maps[0].maxLabel
            guard nObj > 0 else { throw PipelineError.invalidInput(what: "sequence \(s)", reason: "the first annotation has no object") }
            var preds: [[Mask]]
            let t0 = Date(), c0 = cpuMs()
            if o.baseline == "copy" {
                preds = (1...nObj).map { k in Array(repeating: maps[0].mask(k), count: frames.count) }
            } else {
                let prompts = (1...nObj).compactMap { k -> ObjectPrompt? in
                    let m = maps[0].mask(k)
                    return m.isEmpty ? nil : ObjectPrompt(name: "\(k)", frame: 0, prompt: .mask(m))
                }
                var flowOptions = FlowPropagator.Options()
                flowOptions.flowROI = !o.wholeFrameFlow
                let tracks = try Tracker.track(frames: frames, prompts: prompts, propagator: FlowPropagator(options: flowOptions))
                preds = (1...nObj).map { k in
                    if let tr = tracks.objects.first(where: { $0.name == "\(k)" }) {
                        return tr.frames.map { $0.mask ?? Mask(width: W, height: H) }
                    }
                    return Array(repeating: Mask(width: W, height: H), count: frames.count)
                }
            }
            let steps = max(1, frames.count - 1)
            let ms = Date().timeIntervalSince(t0) * 1000 / Double(steps), cpu = (cpuMs() - c0) / Double(steps)
            totalMs += ms * Double(frames.count - 1); totalCpu += cpu * Double(frames.count - 1); totalSteps += frames.count - 1
            if let dir = o.saveTo {
                let sd = dir.appendingPathComponent(s)
                try fm.createDirectory(at: sd, withIntermediateDirectories: true)
                for (t, name) in frameNames.enumerated() {
                    let lm = LabelMap(width: W, height: H, masks: preds.map { $0[t] })
                    try ImageIO.writePalettePNG(GrayImage(width: W, height: H, pixels: lm.labels), palette: ImageIO.davisPalette,
                                                to: sd.appendingPathComponent((name as NSString).deletingPathExtension + ".png").path)
                }
            }
            var pj: [[Double]] = [], pf: [[Double]] = []
            for k in 1...nObj {
                let sc = SequenceScore.evaluate(name: "\(s)_\(k)", predictions: preds[k - 1], truths: maps.map { $0.mask(k) })
                pj.append(sc.j); pf.append(sc.f)
                objJ.append(sc.jMean); objF.append(sc.fMean)
            }
            let J = pj.map { DAVISMetrics.statistics($0).mean }.reduce(0, +) / Double(nObj)
            let F = pf.map { DAVISMetrics.statistics($0).mean }.reduce(0, +) / Double(nObj)
            rows.append(EvalTrackSequence(name: s, objects: nObj, frames: frames.count, J: J, F: F, JF: (J + F) / 2,
                                          msPerFrame: ms, cpuMsPerFrame: cpu, perFrameJ: pj, perFrameF: pf))
            progress.advance(note: String(format: "%@ J&F %.3f", s, (J + F) / 2))
        }
        progress.finish()
        let mJ = objJ.reduce(0, +) / Double(objJ.count), mF = objF.reduce(0, +) / Double(objF.count)
        return EvalTrackReport(method: o.baseline ?? (o.wholeFrameFlow ? "gar, whole-frame flow" : "gar"), dataset: o.dataset, resolution: o.resolution, sequences: rows,
                               meanJ: mJ, meanF: mF, meanJF: (mJ + mF) / 2, msPerFrame: totalSteps > 0 ? totalMs / Double(totalSteps) : 0,
                               cpuMsPerFrame: totalSteps > 0 ? totalCpu / Double(totalSteps) : 0,
                               loadBefore: loadBefore, loadAfter: loadAverage(), threads: Parallel.workers)
    }
}
