// `gar frames`: sample frames from a video (or frame folder) and write them as PNGs named by
// frame index (000042.png) plus frames.json, into --out (AtomicOutput.directory: the folder is
// created when missing; the files appear only when all are complete, and nothing else in the
// folder is touched). Frames of an earlier run with other indices stay; frames.json lists this
// run's.
import Foundation
import Video

public enum FramesJob {
    public struct Request {
        public var input: String
        public var policy: SamplingPolicy
        public var window: ClosedRange<Double>?
        public var size: OutputSize
        public var outDir: String
        public var threads: Int
        /// Keep the decodable frames when damaged data makes some wanted frames undecodable
        /// (default: fail, write nothing).
        public var allowPartial: Bool
        /// Frame rate of a frame folder (for time-based requests).
        public var folderFPS: Double?
        public var quiet: Bool

        public init(input: String, policy: SamplingPolicy, window: ClosedRange<Double>? = nil, size: OutputSize = .original,
                    outDir: String, threads: Int = 0, allowPartial: Bool = false, folderFPS: Double? = nil, quiet: Bool = false) {
            self.input = input
            self.policy = policy
            self.window = window
            self.size = size
            self.outDir = outDir
            self.threads = threads
            self.allowPartial = allowPartial
            self.folderFPS = folderFPS
            self.quiet = quiet
        }
    }

    /// frames.json (schema `frames.json` version 2, README "JSON outputs").
    public struct Manifest: Codable, Equatable {
        public struct Entry: Codable, Equatable {
            public var index: Int
            public var pts: Double
            public var file: String
            public var width: Int
            public var height: Int
        }
        public var video: String
        public var policy: String
        /// The --start/--end window in seconds (nil when not given / open).
        public var start: Double?
        public var end: Double?
        public var frames: [Entry]
        /// Damaged data met while reading the input, one line each (empty when clean).
        public var warnings: [String]
        /// Wanted frames that could not be decoded (only with allowPartial).
        public var missingFrames: [Int]?
        public var schemaVersion = 2
    }

    /// What `gar frames` prints (schema `frames` version 2, README "JSON outputs").
    public struct Summary: Codable, Equatable {
        /// The output folder.
        public var out: String
        /// Frames written.
        public var frames: Int
        /// Path of frames.json.
        public var manifest: String
        public var warnings: [String]
        public var schemaVersion = 2

        public init(out: String, manifest: Manifest) {
            self.out = out
            frames = manifest.frames.count
            self.manifest = (out as NSString).appendingPathComponent("frames.json")
            warnings = manifest.warnings
        }
    }

    /// File name of frame `index`.
    public static func fileName(_ index: Int) -> String { String(format: "%06d.png", index) }

    /// Whether gar frames may write `relativePath` in its output folder.
    public static func writes(_ relativePath: String) -> Bool {
        let stem = relativePath.hasSuffix(".png") ? relativePath.dropLast(4) : ""
        return relativePath == "frames.json" || (stem.count >= 6 && stem.allSatisfy(\.isASCII) && stem.allSatisfy(\.isNumber))
    }

    @discardableResult
    public static func run(_ r: Request) throws -> Manifest {
        let source = try FrameSources.open(r.input, threads: r.threads, folderFPS: r.folderFPS)
        let out = URL(fileURLWithPath: r.outDir)
        return try AtomicOutput.directory(at: out) { tmp in
            var progress: Progress?
            let stream = try source.frames(r.policy, window: r.window, size: r.size) { done, total in
                if progress == nil { progress = Progress("frames \(r.input)", total: total, quiet: r.quiet) }
                progress?.advance(1)
                _ = done
            }
            var entries: [Manifest.Entry] = []
            while let frame = try stream.next() {
                let name = fileName(frame.index)
                try ImageIO.writePNG(frame.image, to: tmp.appendingPathComponent(name).path)
                entries.append(.init(index: frame.index, pts: frame.pts, file: name,
                                     width: frame.image.width, height: frame.image.height))
            }
            progress?.finish()
            let missing = stream.missingFrames
            if !missing.isEmpty && !r.allowPartial {
                throw PipelineError.invalidInput(
                    what: r.input,
                    reason: "\(missing.count) wanted frame(s) could not be decoded (damaged data, first \(missing[0])); \(entries.count) decoded — use --allow-partial to keep them")
            }
            let end = r.window.map(\.upperBound).flatMap { $0 == .greatestFiniteMagnitude ? nil : $0 }
            let warnings = source.warnings + (stream.damageNote.map { [$0] } ?? [])
            let manifest = Manifest(video: r.input, policy: r.policy.description,
                                    start: r.window?.lowerBound, end: end, frames: entries,
                                    warnings: warnings, missingFrames: missing.isEmpty ? nil : missing)
            do {
                try JSONOutput.encoder(pretty: true).encode(manifest).write(to: tmp.appendingPathComponent("frames.json"))
            } catch { throw PipelineError.io(path: out.path, error) }
            if !r.quiet { for w in warnings { printErr("warning: \(r.input): \(w)") } }
            return manifest
        }
    }
}
