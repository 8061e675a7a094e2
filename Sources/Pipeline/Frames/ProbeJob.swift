// `gar probe VIDEO`: stream facts as JSON; with --count-frames also the exact frame count (from
// the packet index, or by decoding when the index is not clean; --decode forces decoding).
// Schema `probe` version 2 (README "JSON outputs"): snake_case keys, `schema_version`, `warnings`
// (damaged data found by counting or decoding; empty without --count-frames / --decode).
import Foundation
import Video

public enum ProbeJob {
    /// VideoInfo's fields, plus (when counted) what the frame timeline says.
    public struct Report: Encodable {
        public var info: VideoInfo
        public var ffmpegVersion: String
        /// Set with --count-frames.
        public var exactDuration: Double?
        public var keyframes: Int?
        public var seekable: Bool?
        public var frameIndexSource: String?
        public var frameIndexNote: String?
        public var frameCountByDecoding: Int?
        /// Damaged data found while counting or decoding (one line each).
        public var warnings: [String] = []
        public static let schemaVersion = 2

        enum Keys: String, CodingKey {
            case ffmpegVersion, exactDuration, keyframes, seekable, frameIndexSource, frameIndexNote, frameCountByDecoding, warnings
        }

        public func encode(to encoder: Encoder) throws {
            try info.encode(to: encoder)             // VideoInfo's keys, flat
            try encoder.encodeSchemaVersion(Report.schemaVersion)
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(ffmpegVersion, forKey: .ffmpegVersion)
            try c.encode(warnings, forKey: .warnings)
            try c.encodeIfPresent(exactDuration, forKey: .exactDuration)
            try c.encodeIfPresent(keyframes, forKey: .keyframes)
            try c.encodeIfPresent(seekable, forKey: .seekable)
            try c.encodeIfPresent(frameIndexSource, forKey: .frameIndexSource)
            try c.encodeIfPresent(frameIndexNote, forKey: .frameIndexNote)
            try c.encodeIfPresent(frameCountByDecoding, forKey: .frameCountByDecoding)
        }
    }

    public static func run(path: String, countFrames: Bool, decode: Bool, threads: Int = 0) throws -> Report {
        let reader = try VideoReader(path: path, threads: threads)
        var report = Report(info: reader.info, ffmpegVersion: ffmpegVersion())
        if countFrames || decode {
            let timeline = try reader.timeline()
            _ = try reader.countFrames()
            report.info = reader.info
            report.exactDuration = timeline.duration
            report.keyframes = timeline.seekable ? timeline.keyframes.count : nil
            report.seekable = timeline.seekable
            report.frameIndexSource = timeline.source
            report.frameIndexNote = timeline.note
        }
        if decode {
            let decoded = try reader.countFramesByDecoding()
            report.frameCountByDecoding = decoded
            if let counted = report.info.frameCount, decoded < counted {
                report.warnings.append("only \(decoded) of the \(counted) frames could be decoded (damaged data)")
            }
        }
        report.warnings = reader.warnings + report.warnings
        return report
    }

    /// Pretty JSON, keys snake_case and sorted.
    public static func json(_ report: Report) throws -> String {
        try JSONOutput.string(report, pretty: true)
    }
}
