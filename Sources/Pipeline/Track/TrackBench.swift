// `gar bench track`: per-frame cost of the weight-free tracker at a given size, on the committed
// synthetic generator (no data needed), with the cost of one DIS flow measured in the same run as
// the baseline (the part a classical flow-warp tracker also pays), and the whole-frame-flow (no
// ROI), Tier A and DIS-fast variants.
import Foundation
import Tracking

public struct TrackBenchOptions: Sendable {
    public var width = 854, height = 480
    public var frames = 60
    public var repetitions = 2
    public var objects = 1
    public init() {}
}

public struct TrackBenchRow: Sendable, Codable {
    public var name: String
    public var msPerFrameMean: Double
    public var msPerFrameSD: Double
    public var cpuMsPerFrame: Double
}

public struct TrackBenchReport: Sendable, Codable {
    public var width: Int, height: Int, frames: Int, repetitions: Int, objects: Int, threads: Int
    public var rows: [TrackBenchRow]
    public var syntheticJAndF: Double
    /// README "JSON outputs" (`bench track`).
    public var schemaVersion = 2

    public var table: String {
        var s = "gar bench track: \(width)x\(height), \(frames) frames, \(objects) object(s), \(repetitions) reps, \(threads) threads\n"
        s += "| run | ms/frame (mean ± sd) | CPU ms/frame | × one DIS flow |\n|---|---|---|---|\n"
        let base = rows.first { $0.name.hasPrefix("DIS flow") }?.msPerFrameMean ?? 1
        for r in rows {
            s += String(format: "| %@ | %.1f ± %.1f | %.1f | %.2f |\n", r.name as NSString, r.msPerFrameMean, r.msPerFrameSD, r.cpuMsPerFrame, r.msPerFrameMean / base)
        }
        s += String(format: "synthetic J&F of the tracked run: %.3f\n", syntheticJAndF)
        return s
    }
}

public enum TrackBench {
    static func cpuMs() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
    }

    public static func run(_ o: TrackBenchOptions, progress: Progress? = nil) -> TrackBenchReport {
        let clip = SyntheticClip.standard(width: o.width, height: o.height, count: o.frames)
        var rows: [TrackBenchRow] = []
        func measure(_ name: String, _ body: () -> Void) {
            var walls: [Double] = []
            var cpu = 0.0
            for _ in 0..<o.repetitions {
                let c0 = cpuMs(), t0 = Date()
                body()
                walls.append(Date().timeIntervalSince(t0) * 1000 / Double(o.frames - 1))
                cpu += (cpuMs() - c0) / Double(o.frames - 1)
                progress?.advance(note: name)
            }
            let mean = walls.reduce(0, +) / Double(walls.count)
            let sd = (walls.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, walls.count - 1))).squareRoot()
            rows.append(TrackBenchRow(name: name, msPerFrameMean: mean, msPerFrameSD: sd, cpuMsPerFrame: cpu / Double(o.repetitions)))
        }
        let dis = DISFlow(.medium)
        let levels = FlowPyramid.levelCount(width: o.width, height: o.height, patchSize: 8)
        let grays = clip.frames.map { Plane(grayFromRGB: $0.pixels, width: o.width, height: o.height) }
        measure("DIS flow (medium, one direction, incl. pyramid)") {
            var prev = FlowPyramid(grays[0], levels: levels)
            for t in 1..<o.frames {
                let cur = FlowPyramid(grays[t], levels: levels)
                _ = dis.flow(from: cur, to: prev)
                prev = cur
            }
        }
        var fast = FlowPropagator.Options(); fast.flow = .fast
        var tierA = FlowPropagator.Options(); tierA.forwardFlow = true
        var fullFrame = FlowPropagator.Options(); fullFrame.flowROI = false
        var jf = 0.0
        for (name, opts) in [("tracker (default)", FlowPropagator.Options()), ("tracker, flow on the whole frame (no ROI)", fullFrame),
                             ("tracker, Tier A (2 flows + FB check)", tierA), ("tracker, DIS fast", fast)] {
            measure(name) {
                let p = FlowPropagator(options: opts)
                var preds = [[Mask]](repeating: [], count: o.objects)
                for t in 0..<o.frames {
                    var prompts: [Int: Mask] = [:]
                    if t == 0 { for k in 0..<o.objects { prompts[k] = clip.masks[k][0] } }
                    let r = p.step(frame: clip.frames[t], prompts: prompts)
                    for k in 0..<o.objects { preds[k].append(r[k]?.mask ?? Mask(width: o.width, height: o.height)) }
                }
                if name == "tracker (default)" {
                    jf = (0..<o.objects).map { SequenceScore.evaluate(name: "", predictions: preds[$0], truths: clip.masks[$0]).jAndF }
                        .reduce(0, +) / Double(o.objects)
                }
            }
        }
        return TrackBenchReport(width: o.width, height: o.height, frames: o.frames, repetitions: o.repetitions,
                                objects: o.objects, threads: Parallel.workers, rows: rows, syntheticJAndF: jf)
    }
}
