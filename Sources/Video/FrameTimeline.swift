// The frame timeline of a video: every frame a sequential decode outputs, with its time, and
// the keyframes decoding can start from. Seeking is only trusted when the timeline comes from a
// clean packet index; otherwise it is built by decoding and the reader never seeks.
import CFFmpeg

public struct FrameTimeline: Sendable {
    /// A random-access point: a keyframe packet, and the first frame (index) whose pts is >= its pts.
    public struct Keyframe: Sendable, Equatable {
        public var pts: Int64
        public var dts: Int64
        public var firstFrame: Int
    }

    /// pts of frame k, in the stream time base.
    public let pts: [Int64]
    /// Time of frame k in seconds since frame 0.
    public let seconds: [Double]
    /// End of the last frame's display, seconds since frame 0 (last time + one frame duration).
    public let duration: Double
    /// Keyframes by increasing pts (empty when not seekable).
    public let keyframes: [Keyframe]
    /// True when built from a clean packet index: frames may be reached by seeking.
    public let seekable: Bool
    /// Why the index is not trusted for seeking (nil when seekable).
    public let note: String?
    /// How the timeline was built: "packet index" or "decode".
    public let source: String

    let rankOfPts: [Int64: Int]

    public var count: Int { pts.count }

    init(pts: [Int64], timeBase: Double, frameDuration: Double?, keyframes: [Keyframe],
         seekable: Bool, note: String?, source: String) {
        self.pts = pts
        let p0 = pts.first ?? 0
        seconds = pts.map { Double($0 - p0) * timeBase }
        let last = seconds.last ?? 0
        let step = frameDuration ?? (seconds.count > 1 ? (last - seconds[0]) / Double(seconds.count - 1) : 0)
        duration = seconds.isEmpty ? 0 : last + max(step, 0)
        self.keyframes = keyframes
        self.seekable = seekable
        self.note = note
        self.source = source
        var map: [Int64: Int] = [:]
        map.reserveCapacity(pts.count)
        for (i, p) in pts.enumerated() { map[p] = i }
        rankOfPts = map
    }

    /// The keyframe to start decoding from to get frame `k`: the one with the largest pts <= pts[k]
    /// (nil: none, decode from the start of the file).
    func anchor(for k: Int) -> Int? {
        let target = pts[k]
        var lo = 0, hi = keyframes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keyframes[mid].pts <= target { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? nil : lo - 1
    }

    // MARK: building

    /// One demuxed packet of the video stream, in decode order.
    struct PacketInfo {
        var pts: Int64, dts: Int64, key: Bool, discard: Bool
    }

    /// Builds the timeline from packets (decode order): frames are the non-discarded packets
    /// sorted by pts. Returns the reason instead when the index cannot be trusted to match a
    /// sequential decode: a frame packet without pts, duplicate pts, a stream that does not start
    /// with a keyframe, or frames displayed before the first keyframe (leading pictures a decoder
    /// may drop). The caller then builds the timeline by decoding.
    static func fromPackets(_ packets: [PacketInfo], timeBase: Double,
                            frameDuration: Double?) -> (timeline: FrameTimeline?, problem: String?) {
        var framePts: [Int64] = []
        framePts.reserveCapacity(packets.count)
        for p in packets where !p.discard {
            if p.pts == AV_NOPTS { return (nil, "packets without pts") }
            framePts.append(p.pts)
        }
        if framePts.isEmpty { return (nil, "no video packets") }
        framePts.sort()
        for i in 1..<framePts.count where framePts[i] == framePts[i - 1] {
            return (nil, "duplicate pts")
        }
        guard let first = packets.first, first.key else {
            return (nil, "the stream does not start with a keyframe")
        }
        if first.pts == AV_NOPTS || framePts[0] < first.pts {
            return (nil, "frames shown before the first keyframe")
        }
        var keys: [Keyframe] = []
        for p in packets where p.key && p.pts != AV_NOPTS {
            // First frame at or after the keyframe's pts.
            var lo = 0, hi = framePts.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if framePts[mid] < p.pts { lo = mid + 1 } else { hi = mid }
            }
            guard lo < framePts.count else { continue }
            keys.append(Keyframe(pts: p.pts, dts: p.dts == AV_NOPTS ? p.pts : p.dts, firstFrame: lo))
        }
        keys.sort { $0.pts < $1.pts }
        let timeline = FrameTimeline(pts: framePts, timeBase: timeBase, frameDuration: frameDuration,
                                     keyframes: keys, seekable: true, note: nil, source: "packet index")
        return (timeline, nil)
    }

    /// A timeline measured by decoding every frame (exact by construction; never seeks).
    static func fromDecodedPts(_ pts: [Int64], timeBase: Double, frameDuration: Double?, note: String?) -> FrameTimeline {
        FrameTimeline(pts: pts, timeBase: timeBase, frameDuration: frameDuration, keyframes: [],
                      seekable: false, note: note, source: "decode")
    }
}
