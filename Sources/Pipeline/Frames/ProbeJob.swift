// `gar probe VIDEO`: stream facts as JSON; with --count-frames also the exact frame count (from
// the packet index, or by decoding when the index is not clean; --decode forces decoding).
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

        enum Keys: String, CodingKey {
            case ffmpegVersion, exactDuration, keyframes, seekable, frameIndexSource, frameIndexNote, frameCountByDecoding
        }

        public func encode(to encoder: Encoder) throws {
            try info.encode(to: encoder)             // VideoInfo's keys, flat
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(ffmpegVersion, forKey: .ffmpegVersion)
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
        if decode { report.frameCountByDecoding = try reader.countFramesByDecoding() }
        return report
    }

    /// Pretty JSON with sorted keys.
    public static func json(_ report: Report) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try enc.encode(report), as: UTF8.self)
    }
}
