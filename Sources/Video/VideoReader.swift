// VideoReader: frames of a video file, by sampling policy, as RGB.
//
//   let reader = try VideoReader(path: "clip.mp4")
//   let stream = try reader.frames(.uniform(count: 16), size: .maxSide(448))
//   while let frame = try stream.next() { ... frame.index, frame.pts, frame.image ... }
//
// Numbering: frame k is the k-th frame a sequential decode from the start outputs (after the
// container's edit list, as FFmpeg's demuxers apply it by default), which is how decord and PyAV
// number frames. `Frame.pts` is in seconds since frame 0 (the stream's start_time is not
// subtracted separately; `VideoInfo.startTime` has it).
//
// Seeking: a demux-only pass builds the packet index (pts, keyframe flags). When that index is
// clean (see FrameTimeline.fromPackets) the reader seeks to the keyframe before a wanted frame
// whenever that skips more than a few frames, and maps decoded frames to indices by their pts,
// so the result is byte-identical to a sequential decode. Otherwise it decodes sequentially.
import CFFmpeg

/// A decoded frame: its index (frame k = the k-th frame of a sequential decode), its time and
/// its upright, square-pixel RGB picture.
public struct Frame: Sendable {
    public let index: Int
    /// Seconds since frame 0.
    public let pts: Double
    public let image: RGBImage

    public init(index: Int, pts: Double, image: RGBImage) {
        self.index = index
        self.pts = pts
        self.image = image
    }
}

/// Size of the returned frames (always after rotation and square-pixel correction).
public enum OutputSize: Sendable, Equatable {
    /// The display size (`VideoInfo.width` x `VideoInfo.height`).
    case original
    /// Exactly this size (aspect ratio not kept), bicubic.
    case exact(width: Int, height: Int)
    /// Longer side at most N, aspect ratio kept (each side rounded to nearest, at least 1);
    /// smaller frames are not enlarged.
    case maxSide(Int)

    /// The final size for a display size.
    public func resolve(width w: Int, height h: Int) -> (width: Int, height: Int) {
        switch self {
        case .original: return (w, h)
        case let .exact(ew, eh): return (ew, eh)
        case let .maxSide(n):
            let long = max(w, h)
            guard long > n, n > 0 else { return (w, h) }
            let s = Double(n) / Double(long)
            if w >= h { return (n, max(1, Int((Double(h) * s).rounded()))) }
            return (max(1, Int((Double(w) * s).rounded())), n)
        }
    }
}

public final class VideoReader {
    public let path: String
    /// Stream parameters (`frameCount` is filled in once counted).
    public private(set) var info: VideoInfo
    /// Decoder threads (0 = one per core, FFmpeg's automatic choice, like the ffmpeg CLI).
    public let threads: Int
    /// Seek only when it skips more than this many frames (a seek flushes the decoder).
    public var seekThreshold = 4

    private var cachedTimeline: FrameTimeline?
    private var packetIndex: FrameTimeline?
    private var indexProblem: String?
    private var indexScanned = false
    /// Damaged data met while indexing or counting the frames (nil: none seen).
    private var damage: String?
    let sar: AVRational
    let streamTimeBase: AVRational

    /// Most decoder threads: FFmpeg takes any count (a context per frame thread), and 100000
    /// threads never finish starting.
    public static let maxThreads = 64

    public init(path: String, threads: Int = 0) throws {
        guard (0 ... VideoReader.maxThreads).contains(threads) else {
            throw VideoError.invalidRequest(path: path, reason: "decoder threads must be between 0 (one per core) and \(VideoReader.maxThreads), got \(threads)")
        }
        let s = try DecodeSession(path: path, decode: true, threads: threads)
        self.path = path
        self.threads = threads
        info = VideoInfo(session: s)
        // FFmpeg leaves the size at 0 when it cannot parse the stream header (or refuses its
        // size, e.g. a 100000x100000 PNG); nothing could be decoded from such a stream.
        guard info.width > 0, info.height > 0 else {
            throw VideoError.cannotOpen(path: path, reason: "the video stream has no valid picture size (damaged header or an impossible size)")
        }
        sar = av_guess_sample_aspect_ratio(s.fmt, s.stream, nil)
        streamTimeBase = s.stream.pointee.time_base
    }

    /// Exact number of frames a sequential decode outputs (from the packet index when it is
    /// clean, else by decoding everything).
    public func countFrames() throws -> Int {
        let n = try timeline().count
        info.frameCount = n
        return n
    }

    /// Damage met so far while indexing and counting the frames (`timeline()`, `countFrames()`),
    /// as one-line warnings for the user: container data that could not be read or was flagged
    /// corrupt, and then how many of the frames the header lists can be decoded (a truncated
    /// file). Empty for a clean file. Damage met while decoding frames is `FrameStream.damageNote`.
    public var warnings: [String] {
        guard let damage else { return [] }
        var w = "damaged data (\(damage))"
        if let t = cachedTimeline, let header = info.frameCountHeader, t.count < header {
            w += ": only \(t.count) of the \(header) frames the header lists can be decoded (truncated or damaged file)"
        }
        return [w]
    }

    /// Exact count by decoding every frame (slow; for tests and `probe --count-frames --decode`).
    public func countFramesByDecoding() throws -> Int {
        let s = try DecodeSession(path: path, decode: true, threads: threads)
        var n = 0
        while try s.nextFrame() != nil { n += 1 }
        return n
    }

    /// The frame timeline (built once: packet index, or a decode pass when the index is not clean).
    public func timeline() throws -> FrameTimeline {
        if let cachedTimeline { return cachedTimeline }
        if let t = try packetTimeline() { cachedTimeline = t; return t }
        let t = try decodedTimeline()
        cachedTimeline = t
        return t
    }

    /// Timeline from a demux-only pass, or nil when the index is not clean (reason kept).
    private func packetTimeline() throws -> FrameTimeline? {
        if indexScanned { return packetIndex }
        indexScanned = true
        let s = try DecodeSession(path: path, decode: false)
        var packets: [FrameTimeline.PacketInfo] = []
        var corrupt = false
        while let p = s.readVideoPacket() {
            let flags = p.pointee.flags
            if (flags & AV_PKT_FLAG_CORRUPT) != 0 { corrupt = true }
            packets.append(.init(pts: p.pointee.pts, dts: p.pointee.dts,
                                 key: (flags & AV_PKT_FLAG_KEY) != 0, discard: (flags & AV_PKT_FLAG_DISCARD) != 0))
        }
        if let err = s.readError { indexProblem = "damaged container data (\(err))"; damage = indexProblem; return nil }
        if corrupt { indexProblem = "packets flagged corrupt"; damage = indexProblem; return nil }
        let (t, problem) = FrameTimeline.fromPackets(packets, timeBase: timeBase, frameDuration: frameDuration)
        indexProblem = problem
        packetIndex = t
        return t
    }

    private func decodedTimeline() throws -> FrameTimeline {
        let s = try DecodeSession(path: path, decode: true, threads: threads)
        var pts: [Int64] = []
        var filler = PtsFiller()
        while let f = try s.nextFrame() { pts.append(filler.next(framePts(f))) }
        if let note = s.damageNote { damage = [damage, note].compactMap { $0 }.joined(separator: "; ") }
        return .fromDecodedPts(pts, timeBase: timeBase, frameDuration: frameDuration,
                               note: indexProblem ?? "packet index unavailable")
    }

    /// Seconds per stream time-base tick.
    var timeBase: Double {
        streamTimeBase.den != 0 ? Double(streamTimeBase.num) / Double(streamTimeBase.den) : 1.0 / 90000
    }
    var frameDuration: Double? { info.fps.map { 1 / $0 } }

    /// Frame indices a policy selects (validated against the frame count).
    public func frameIndices(_ policy: SamplingPolicy, window: ClosedRange<Double>? = nil) throws -> [Int] {
        let t = try timeline()
        return try FrameSelection.resolve(policy, times: t.seconds, duration: t.duration, window: window, path: path)
    }

    /// Frames for the policy, in increasing index order, as a stream (`next()` throws; only the
    /// frame being returned is kept alive). `progress(done, total)` is called after each frame.
    public func frames(_ policy: SamplingPolicy, window: ClosedRange<Double>? = nil,
                       size: OutputSize = .original,
                       progress: ((Int, Int?) -> Void)? = nil) throws -> FrameStream {
        if let window, !(window.lowerBound >= 0 && window.lowerBound.isFinite && window.upperBound.isFinite) {
            throw VideoError.invalidRequest(path: path, reason: "bad window \(window.lowerBound)...\(window.upperBound) s")
        }
        // A clean packet index (one demux-only pass): frames are identified by pts, decoding seeks
        // where that saves work. All policies then number frames the same way, even when damaged
        // data makes the decoder drop a frame (it is skipped and reported, see FrameStream.missingFrames).
        if let t = try packetTimeline() {
            cachedTimeline = t
            let targets = try FrameSelection.resolve(policy, times: t.seconds, duration: t.duration, window: window, path: path)
            return FrameStream(producer: try VideoFrameProducer(reader: self, plan: .seeking(targets: targets, timeline: t), size: size), progress: progress)
        }
        // No clean index. Whole-clip passes decode sequentially and count.
        switch (policy, window) {
        case (.all, nil):
            return FrameStream(producer: try VideoFrameProducer(reader: self, plan: .sequential(targets: nil, every: 1, timeline: nil), size: size), progress: progress)
        case let (.every(k), nil):
            guard k > 0 else { throw VideoError.invalidRequest(path: path, reason: "--every needs K > 0") }
            return FrameStream(producer: try VideoFrameProducer(reader: self, plan: .sequential(targets: nil, every: k, timeline: nil), size: size), progress: progress)
        default: break
        }
        // No clean index: explicit indices need no timeline (checked against the end as we go).
        if case let .indices(list) = policy {
            guard !list.isEmpty else { throw VideoError.invalidRequest(path: path, reason: "no frame indices given") }
            if let bad = list.first(where: { $0 < 0 }) {
                throw VideoError.invalidRequest(path: path, reason: "frame index \(bad) is negative")
            }
            let targets = FrameSelection.dedupSorted(list.sorted())
            return FrameStream(producer: try VideoFrameProducer(reader: self, plan: .sequential(targets: targets, every: nil, timeline: cachedTimeline), size: size), progress: progress)
        }
        let t = try timeline()
        let targets = try FrameSelection.resolve(policy, times: t.seconds, duration: t.duration, window: window, path: path)
        return FrameStream(producer: try VideoFrameProducer(reader: self, plan: .sequential(targets: targets, every: nil, timeline: t), size: size), progress: progress)
    }
}

/// pts of a decoded frame (its packet's pts; the best-effort guess when the packet had none).
func framePts(_ f: UnsafePointer<AVFrame>) -> Int64 {
    f.pointee.pts != AV_NOPTS ? f.pointee.pts : f.pointee.best_effort_timestamp
}

/// Fills in missing frame timestamps (AV_NOPTS_VALUE) by extrapolating from the previous frame
/// with the last seen step (1 tick when unknown). Used by every sequential decode so frame times
/// agree between the timeline and the frames.
struct PtsFiller {
    private var last: Int64?
    private var step: Int64 = 1

    mutating func next(_ raw: Int64) -> Int64 {
        var p = raw
        if p == AV_NOPTS {
            p = (last ?? -step) + step
        } else if let l = last, p > l {
            step = p - l
        }
        last = p
        return p
    }
}

/// Decodes the frames of a FrameStream from a video file (sequentially or by seeking).
final class VideoFrameProducer: FrameProducer {
    enum Plan {
        /// Decode from the start, frame k = k-th output. Either explicit sorted `targets`, or
        /// every `every`-th frame of the whole clip. `timeline` (if known) supplies frame times.
        case sequential(targets: [Int]?, every: Int?, timeline: FrameTimeline?)
        /// Seek-based: sorted targets, frames identified by pts through the clean timeline.
        case seeking(targets: [Int], timeline: FrameTimeline)
    }

    let path: String
    let expectedCount: Int?
    private(set) var stats = FrameStream.Stats()

    private let reader: VideoReader
    private let plan: Plan
    private let size: OutputSize
    private var session: DecodeSession
    private let converter: RGBConverter
    private var targetCursor = 0
    // sequential state
    private var counter = 0
    private var firstPts: Int64?
    private var filler = PtsFiller()
    // seeking state
    private var positionedFor: Int?  // the target the decoder was last positioned (seeked) for
    /// Wanted frames the decoder never produced (damaged data), skipped.
    private(set) var missing: [Int] = []
    private var validFrom = 0        // outputs below this rank are not trusted in the current run
    private var lastRank = -1        // highest rank output in the current run
    private var finished = false

    init(reader: VideoReader, plan: Plan, size: OutputSize) throws {
        self.reader = reader
        self.path = reader.path
        self.plan = plan
        self.size = size
        session = try DecodeSession(path: reader.path, decode: true, threads: reader.threads)
        let n = reader.threads > 0 ? reader.threads : ProcessInfo_activeCores()
        converter = RGBConverter(threads: n)
        switch plan {
        case let .sequential(targets, every, timeline):
            if let targets { expectedCount = targets.count }
            else if let timeline, let every { expectedCount = (timeline.count + every - 1) / every }
            else { expectedCount = nil }
        case let .seeking(targets, _):
            expectedCount = targets.count
        }
    }

    var damageNote: String? {
        var note = session.damageNote
        if !missing.isEmpty {
            let list = missing.prefix(8).map(String.init).joined(separator: ",") + (missing.count > 8 ? ",..." : "")
            note = (note.map { $0 + "; " } ?? "") + "\(missing.count) wanted frame(s) undecodable and skipped: \(list)"
        }
        return note
    }

    func next() throws -> Frame? {
        if finished { return nil }
        let frame: Frame?
        switch plan {
        case let .sequential(targets, every, timeline):
            frame = try nextSequential(targets: targets, every: every, timeline: timeline)
        case let .seeking(targets, timeline):
            frame = try nextSeeking(targets: targets, timeline: timeline)
        }
        if frame == nil { finished = true }
        return frame
    }

    // MARK: sequential

    private func nextSequential(targets: [Int]?, every: Int?, timeline: FrameTimeline?) throws -> Frame? {
        if let targets, targetCursor >= targets.count { return nil }
        while let f = try session.nextFrame() {
            stats.decodedFrames += 1
            let k = counter
            counter += 1
            let p = filler.next(framePts(f))
            if firstPts == nil { firstPts = p }
            let wanted: Bool
            if let targets { wanted = targets[targetCursor] == k } else { wanted = k % (every ?? 1) == 0 }
            guard wanted else { continue }
            targetCursor += 1
            let seconds: Double
            if let timeline, k < timeline.count {
                seconds = timeline.seconds[k]
            } else {
                seconds = Double(p - (firstPts ?? p)) * reader.timeBase
            }
            return Frame(index: k, pts: seconds, image: try convert(f))
        }
        if let targets, targetCursor < targets.count {
            let want = targets[targetCursor]
            if session.damageNote == nil {
                throw VideoError.indexOutOfRange(path: path, index: want, frameCount: counter)
            }
            throw VideoError.truncated(path: path, framesDecoded: counter, wanted: want, reason: session.damageNote ?? "end of stream")
        }
        return nil
    }

    // MARK: seeking

    private func nextSeeking(targets: [Int], timeline: FrameTimeline) throws -> Frame? {
        var restarted = false
        while targetCursor < targets.count {
            let t = targets[targetCursor]
            if positionedFor != t {
                positionedFor = t
                try positionFor(t, timeline: timeline)
            }
            guard let f = try session.nextFrame() else {
                if !restarted && validFrom > 0 && session.damageNote == nil { restarted = true; try restart(); continue }
                throw VideoError.truncated(path: path, framesDecoded: lastRank + 1, wanted: t,
                                           reason: session.damageNote ?? "end of stream")
            }
            stats.decodedFrames += 1
            guard let rank = timeline.rankOfPts[framePts(f)] else { continue }   // not in the index: skip
            if rank < validFrom { continue }      // leading picture of the landing keyframe
            lastRank = max(lastRank, rank)
            if rank < t { continue }
            if rank > t {
                // Went past t without seeing it: a wrong landing (start over once), or a frame the
                // decoder dropped because its data is damaged (note it, go on with the next ones).
                if !restarted && session.damagedPackets == 0 { restarted = true; try restart(); continue }
                while targetCursor < targets.count && targets[targetCursor] < rank {
                    missing.append(targets[targetCursor])
                    targetCursor += 1
                }
                guard targetCursor < targets.count, targets[targetCursor] == rank else { continue }
            }
            targetCursor += 1
            return Frame(index: rank, pts: timeline.seconds[rank], image: try convert(f))
        }
        return nil
    }

    /// Seeks when the wanted frame `t` is not reachable by decoding on, or when seeking skips
    /// more than `seekThreshold` frames.
    private func positionFor(_ t: Int, timeline: FrameTimeline) throws {
        let reachable = validFrom <= t && lastRank < t
        guard let a = timeline.anchor(for: t) else {
            // No keyframe at or before t: only a decode from the start reaches it.
            if !reachable || validFrom != 0 { try restart() }
            return
        }
        let key = timeline.keyframes[a]
        if reachable && key.firstFrame - (lastRank + 1) <= reader.seekThreshold { return }
        if reachable && key.firstFrame <= lastRank { return }
        // Try the keyframe's pts, then its dts, then the previous keyframe; accept a landing on
        // any keyframe at or before the anchor.
        var candidates: [Int64] = [key.pts, key.dts]
        if a > 0 { candidates.append(timeline.keyframes[a - 1].dts) }
        for ts in candidates {
            stats.seeks += 1
            guard let landed = session.seek(to: ts) else { continue }
            let landedPts = landed.pts != AV_NOPTS ? landed.pts : landed.dts
            guard landedPts <= key.pts,
                  let landedKey = timeline.keyframes.lastIndex(where: { $0.pts == landedPts }) else {
                stats.rejectedLandings += 1
                continue
            }
            validFrom = timeline.keyframes[landedKey].firstFrame
            lastRank = validFrom - 1
            return
        }
        try restart()
    }

    /// Starts over from the beginning of the file (a fresh decoder: same as a sequential decode).
    private func restart() throws {
        stats.restarts += 1
        session = try DecodeSession(path: reader.path, decode: true, threads: reader.threads)
        validFrom = 0
        lastRank = -1
    }

    // MARK: conversion

    private func convert(_ f: UnsafePointer<AVFrame>) throws -> RGBImage {
        let (dw, dh) = VideoInfo.displaySize(codedWidth: Int(f.pointee.width), codedHeight: Int(f.pointee.height),
                                             sar: reader.sar, orientation: reader.info.orientation)
        let (w, h) = size.resolve(width: dw, height: dh)
        do {
            return try converter.rgb(f, width: w, height: h, orientation: reader.info.orientation)
        } catch let RGBConverter.ConvertError.failed(reason) {
            throw VideoError.decodeFailed(path: path, reason: reason)
        }
    }
}

/// What produces the frames of a FrameStream (video decoding or a frame folder).
protocol FrameProducer: AnyObject {
    var path: String { get }
    var expectedCount: Int? { get }
    var missing: [Int] { get }
    var stats: FrameStream.Stats { get }
    var damageNote: String? { get }
    func next() throws -> Frame?
}

/// A pull-based stream of frames. `next()` returns nil after the last wanted frame and throws a
/// `VideoError` (naming the file and the cause) when a wanted frame cannot be produced; frames
/// returned before the error stay valid. Only the frame being returned is held. Not thread-safe.
///
///     while let frame = try stream.next() { ... }
public final class FrameStream {
    /// Work counters (for tests and `gar bench decode`).
    public struct Stats: Sendable, Equatable {
        /// Seeks performed.
        public var seeks = 0
        /// Frames decoded (returned or skipped).
        public var decodedFrames = 0
        /// Fresh starts from the beginning of the file after a seek landed wrong or missed a frame.
        public var restarts = 0
        /// Seeks whose landing was rejected (after the wanted keyframe) and retried.
        public var rejectedLandings = 0
    }

    /// The video file or frame folder.
    public var path: String { producer.path }
    /// Number of frames this stream will return (nil when unknown in advance).
    public var expectedCount: Int? { producer.expectedCount }
    /// Frames returned so far.
    public private(set) var produced = 0
    public var stats: Stats { producer.stats }
    public var seeks: Int { stats.seeks }
    public var decodedFrames: Int { stats.decodedFrames }
    public var restarts: Int { stats.restarts }
    public var rejectedLandings: Int { stats.rejectedLandings }
    /// A one-line note on damaged data met so far (nil when clean): report it as a warning.
    public var damageNote: String? { producer.damageNote }
    /// Wanted frames that could not be decoded (damaged data) and were skipped.
    public var missingFrames: [Int] { producer.missing }

    private let producer: FrameProducer
    private let progress: ((Int, Int?) -> Void)?

    init(producer: FrameProducer, progress: ((Int, Int?) -> Void)?) {
        self.producer = producer
        self.progress = progress
    }

    /// The next frame, or nil when done.
    public func next() throws -> Frame? {
        guard let frame = try producer.next() else { return nil }
        produced += 1
        progress?(produced, expectedCount)
        return frame
    }

    /// Calls `body` for every frame.
    public func forEach(_ body: (Frame) throws -> Void) throws {
        while let f = try next() { try body(f) }
    }

    /// All frames in an array (mind the memory for long clips).
    public func collect() throws -> [Frame] {
        var out: [Frame] = []
        while let f = try next() { out.append(f) }
        return out
    }
}
