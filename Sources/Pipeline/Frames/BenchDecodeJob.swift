// `gar bench decode VIDEO`: decoding throughput and sampling cost, side by side with the ffmpeg
// CLI doing the same work in the same run with the same thread count. A benchmark, not a test:
// numbers depend on the machine and its load, ratios are what to read.
//
// Rows (each repeated `reps` times, interleaved, mean ± sd):
//   ffmpeg decode        ffmpeg -threads N -i V -map 0:v:0 -f null -          (native pixel format)
//   gar decode           VideoReader.countFramesByDecoding()                    (same work)
//   ffmpeg decode+rgb    ffmpeg -threads N -i V -map 0:v:0 -pix_fmt rgb24 -f null -
//   gar decode+rgb       VideoReader.frames(.all): index pass + decode + RGB arrays
//   gar sample K         VideoReader.frames(.uniform(count: K)): index pass + seeks + RGB
//   ffmpeg sample K      K runs of ffmpeg -threads N -ss T -i V -frames:v 1 -pix_fmt rgb24 -f null -
// Besides wall time, each row records CPU time (user+sys of this process or of the ffmpeg child),
// which is steadier than wall time on a shared machine.
// The 10-minute 720p H.264 clip with a 2-s GOP the issue asks for: samples/make_bench_clip.sh.
import Foundation
import Video

public enum BenchDecodeJob {
    public struct Options {
        public var video: String
        public var threads: Int
        public var reps: Int
        public var samples: Int
        public var quiet: Bool
        public init(video: String, threads: Int = 0, reps: Int = 2, samples: Int = 16, quiet: Bool = false) {
            self.video = video
            self.threads = threads
            self.reps = reps
            self.samples = samples
            self.quiet = quiet
        }
    }

    public struct Row: Codable {
        public var name: String
        public var seconds: [Double]
        /// CPU seconds (user + sys) per repetition.
        public var cpu: [Double] = []
        public var frames: Int
        public var cpuMean: Double { cpu.reduce(0, +) / Double(max(1, cpu.count)) }
        public var mean: Double { seconds.reduce(0, +) / Double(max(1, seconds.count)) }
        public var sd: Double {
            guard seconds.count > 1 else { return 0 }
            let m = mean
            return (seconds.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(seconds.count - 1)).squareRoot()
        }
        public var fps: Double { Double(frames) / mean }
    }

    public struct Report: Codable {
        public var video: String
        public var width: Int, height: Int, codec: String
        public var frames: Int, duration: Double, keyframes: Int
        public var threads: Int
        public var rows: [Row]
        public var machine: String
        /// README "JSON outputs" (`bench decode`).
        public var schemaVersion = 1
    }

    public static func run(_ o: Options) throws -> Report {
        let threads = o.threads > 0 ? o.threads : ProcessInfo.processInfo.activeProcessorCount
        let ffmpeg = try findExecutable("ffmpeg")
        let probe = try VideoReader(path: o.video, threads: threads)
        let timeline = try probe.timeline()
        let n = timeline.count
        let picks = try probe.frameIndices(.uniform(count: o.samples))
        let start = probe.info.startTime ?? 0
        func log(_ s: String) { if !o.quiet { printErr(s) } }
        log("bench decode: \(o.video) \(probe.info.width)x\(probe.info.height) \(probe.info.codec), \(n) frames, \(threads) threads, \(o.reps) reps")

        var rows: [String: Row] = [:]
        let order = ["ffmpeg decode", "gar decode", "ffmpeg decode+rgb", "gar decode+rgb", "gar sample \(o.samples)", "ffmpeg sample \(o.samples)"]
        func record(_ name: String, frames: Int, _ body: () throws -> Void) rethrows {
            let c0 = cpuSeconds()
            let t0 = ContinuousClock.now
            try body()
            let dt = ContinuousClock.now - t0
            let cpu = cpuSeconds() - c0
            let s = Double(dt.components.seconds) + Double(dt.components.attoseconds) * 1e-18
            rows[name, default: Row(name: name, seconds: [], frames: frames)].seconds.append(s)
            rows[name]?.cpu.append(cpu)
            log(String(format: "  %-20@ %8.2f s  %8.2f CPU s  (%.1f frames/s)", name as NSString, s, cpu, Double(frames) / s))
        }
        let args = ["-hide_banner", "-nostats", "-v", "error", "-threads", "\(threads)"]
        for rep in 1...max(1, o.reps) {
            log("rep \(rep)")
            try record(order[0], frames: n) { try runChecked(ffmpeg, args + ["-i", o.video, "-map", "0:v:0", "-f", "null", "-"]) }
            try record(order[1], frames: n) {
                let got = try VideoReader(path: o.video, threads: threads).countFramesByDecoding()
                if got != n { throw PipelineError.invalidInput(what: o.video, reason: "decoded \(got) frames, index says \(n)") }
            }
            try record(order[2], frames: n) {
                try runChecked(ffmpeg, args + ["-i", o.video, "-map", "0:v:0", "-pix_fmt", "rgb24", "-f", "null", "-"])
            }
            try record(order[3], frames: n) {
                var count = 0
                try VideoReader(path: o.video, threads: threads).frames(.all).forEach { _ in count += 1 }
            }
            try record(order[4], frames: picks.count) {
                _ = try VideoReader(path: o.video, threads: threads).frames(.uniform(count: o.samples)).collect()
            }
            try record(order[5], frames: picks.count) {
                for k in picks {
                    let t = String(format: "%.6f", start + timeline.seconds[k])
                    try runChecked(ffmpeg, args + ["-ss", t, "-i", o.video, "-map", "0:v:0", "-frames:v", "1",
                                                   "-pix_fmt", "rgb24", "-f", "null", "-"])
                }
            }
        }
        return Report(video: o.video, width: probe.info.width, height: probe.info.height, codec: probe.info.codec,
                      frames: n, duration: timeline.duration, keyframes: timeline.keyframes.count, threads: threads,
                      rows: order.compactMap { rows[$0] }, machine: machineDescription())
    }

    /// The table, with the ratios the issue sets targets for.
    public static func markdown(_ r: Report) -> String {
        var s = "## gar bench decode\n\n"
        s += "`\(r.video)`: \(r.width)x\(r.height) \(r.codec), \(r.frames) frames, \(String(format: "%.1f", r.duration)) s, "
        s += "\(r.keyframes) keyframes; \(r.threads) threads; \(r.machine)\n\n"
        s += "| run | wall s (mean ± sd) | CPU s (mean) | frames | frames/s (wall) |\n|---|---|---|---|---|\n"
        for row in r.rows {
            s += String(format: "| %@ | %.3f ± %.3f | %.2f | %d | %.1f |\n", row.name as NSString, row.mean, row.sd,
                        row.cpuMean, row.frames, row.fps)
        }
        let byName = Dictionary(uniqueKeysWithValues: r.rows.map { ($0.name, $0) })
        func ratio(_ a: String, _ b: String) -> Double? {
            guard let x = byName[a], let y = byName[b] else { return nil }
            return x.mean / y.mean
        }
        s += "\n"
        func cpuRatio(_ a: String, _ b: String) -> Double {
            guard let x = byName[a], let y = byName[b], y.cpuMean > 0 else { return .nan }
            return x.cpuMean / y.cpuMean
        }
        if let q = ratio("ffmpeg decode", "gar decode") {
            s += String(format: "- decode throughput gar / ffmpeg: **%.2f×** wall (target ≥ 0.9); CPU-time ratio %.2f×\n",
                        q, cpuRatio("ffmpeg decode", "gar decode"))
        }
        if let q = ratio("ffmpeg decode+rgb", "gar decode+rgb") {
            s += String(format: "- decode+RGB throughput gar / ffmpeg: **%.2f×** wall; CPU-time ratio %.2f×\n",
                        q, cpuRatio("ffmpeg decode+rgb", "gar decode+rgb"))
        }
        let sample = r.rows.first { $0.name.hasPrefix("gar sample") }
        if let sample, let full = byName["gar decode+rgb"] {
            s += String(format: "- %@ vs gar full decode+RGB: **%.1f× faster** (target ≥ 10× on a 10-min 720p clip; never slower than one pass: %@)\n",
                        sample.name as NSString, full.mean / sample.mean, (sample.mean <= full.mean ? "yes" : "NO") as NSString)
        }
        if let sample, let ff = r.rows.first(where: { $0.name.hasPrefix("ffmpeg sample") }) {
            s += String(format: "- %@ vs %@ (one CLI seek per frame): **%.2f×**\n", sample.name as NSString, ff.name as NSString, ff.mean / sample.mean)
        }
        return s
    }

    // MARK: helpers

    static func findExecutable(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw PipelineError.invalidInput(what: name, reason: "not found on PATH (apt-get install ffmpeg)")
    }

    /// Runs a command; throws with its stderr when it fails.
    static func runChecked(_ exe: String, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let msg = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "exit \(p.terminationStatus)"
            throw PipelineError.invalidInput(what: exe, reason: msg)
        }
    }

    /// user + sys CPU seconds of this process plus its waited-for children.
    static func cpuSeconds() -> Double {
        func seconds(_ who: Int32) -> Double {
            var u = rusage()
            getrusage(who, &u)
            return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) * 1e-6
                + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) * 1e-6
        }
        return seconds(RUSAGE_SELF.rawValue) + seconds(RUSAGE_CHILDREN.rawValue)
    }

    static func machineDescription() -> String {
        var cpu = "unknown CPU"
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let name = line.split(separator: ":").last {
            cpu = name.trimmingCharacters(in: .whitespaces)
        }
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu), FFmpeg \(ffmpegVersion())"
    }
}
