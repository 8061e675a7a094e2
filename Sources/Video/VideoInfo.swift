// What `gar probe` reports about a video file.
import CFFmpeg

public struct VideoInfo: Sendable, Codable, Equatable {
    public var path: String
    /// Demuxer short name(s), e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "mpegts".
    public var container: String
    public var containerLongName: String
    /// Codec short name ("h264", "hevc", "vp9", "av1", "mpeg4", "h263", ...).
    public var codec: String
    public var codecLongName: String
    /// Codec profile ("High", "Main 10", "Profile 2"), when FFmpeg knows it.
    public var profile: String?
    /// Decoder output pixel format ("yuv420p", "yuv420p10le", ...).
    public var pixelFormat: String
    /// Bits per luma sample of the pixel format (8, 10, 12).
    public var bitDepth: Int
    /// Size of the stored picture (before sample aspect ratio and rotation).
    public var codedWidth: Int
    public var codedHeight: Int
    /// Size of the frames we return with `.original`: square pixels (width scaled by the SAR,
    /// height kept, rounded to the nearest integer) and upright (rotation applied).
    public var width: Int
    public var height: Int
    /// Clockwise rotation in degrees from the display matrix, as the ffmpeg CLI derives it.
    public var rotation: Double
    /// The transform that makes frames upright (identity when none).
    public var orientation: Orientation
    /// Sample (pixel) aspect ratio "num:den" ("1:1" when square or unknown).
    public var sampleAspectRatio: String
    /// Average frame rate from the container (frames per second), nil if unknown.
    public var fps: Double?
    /// Stream time base "num/den".
    public var timeBase: String
    /// Stream start time in seconds on the container clock (nil if unknown). Frame times
    /// (`Frame.pts`) are counted from frame 0 instead, so they start at 0.
    public var startTime: Double?
    /// Duration in seconds claimed by the container (may be missing or wrong, e.g. in
    /// fragmented MP4); the exact one comes with the frame count.
    public var duration: Double?
    /// Frame count claimed by the container header (nil if none).
    public var frameCountHeader: Int?
    /// Exact frame count (set by `VideoReader.countFrames()` or `probe --count-frames`).
    public var frameCount: Int?
    /// Colour tags of the stream.
    public var colorSpace: String
    public var colorRange: String
    public var colorPrimaries: String
    public var colorTransfer: String
    public var streamIndex: Int
    public var bitRate: Int?
}

extension VideoInfo {
    /// Reads the stream parameters of an opened session.
    init(session s: DecodeSession) {
        let st = s.stream
        let par = st.pointee.codecpar!
        let fmtCtx = s.fmt
        path = s.path
        container = String(cString: fmtCtx.pointee.iformat.pointee.name)
        containerLongName = fmtCtx.pointee.iformat.pointee.long_name.map { String(cString: $0) } ?? ""
        codec = String(cString: avcodec_get_name(par.pointee.codec_id))
        codecLongName = avcodec_descriptor_get(par.pointee.codec_id)?.pointee.long_name.map { String(cString: $0) } ?? ""
        profile = avcodec_profile_name(par.pointee.codec_id, par.pointee.profile).map { String(cString: $0) }
        let pixFmt = s.codec?.pointee.pix_fmt.rawValue ?? par.pointee.format
        pixelFormat = pixelFormatName(pixFmt)
        if let desc = av_pix_fmt_desc_get(AVPixelFormat(rawValue: pixFmt)) {
            bitDepth = Int(desc.pointee.comp.0.depth)
        } else {
            bitDepth = 0
        }
        codedWidth = Int(par.pointee.width)
        codedHeight = Int(par.pointee.height)
        var matrix: [Int32]?
        if let sd = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, nil) {
            matrix = sd.withMemoryRebound(to: Int32.self, capacity: 9) { Array(UnsafeBufferPointer(start: $0, count: 9)) }
        }
        let (orient, degrees) = Orientation.fromDisplayMatrix(matrix)
        orientation = orient
        rotation = degrees
        let sar = av_guess_sample_aspect_ratio(fmtCtx, st, nil)
        if sar.num > 0 && sar.den > 0 {
            sampleAspectRatio = "\(sar.num):\(sar.den)"
        } else {
            sampleAspectRatio = "1:1"
        }
        let (w, h) = VideoInfo.displaySize(codedWidth: codedWidth, codedHeight: codedHeight, sar: sar, orientation: orient)
        width = w
        height = h
        let afr = st.pointee.avg_frame_rate, rfr = st.pointee.r_frame_rate
        if afr.num > 0 && afr.den > 0 {
            fps = Double(afr.num) / Double(afr.den)
        } else if rfr.num > 0 && rfr.den > 0 {
            fps = Double(rfr.num) / Double(rfr.den)
        } else {
            fps = nil
        }
        let tb = st.pointee.time_base
        timeBase = "\(tb.num)/\(tb.den)"
        let tbSeconds = Double(tb.num) / Double(tb.den)
        startTime = st.pointee.start_time == AV_NOPTS ? nil : Double(st.pointee.start_time) * tbSeconds
        if st.pointee.duration != AV_NOPTS && st.pointee.duration > 0 {
            duration = Double(st.pointee.duration) * tbSeconds
        } else if fmtCtx.pointee.duration != AV_NOPTS && fmtCtx.pointee.duration > 0 {
            duration = Double(fmtCtx.pointee.duration) / Double(cff_time_base())
        } else {
            duration = nil
        }
        frameCountHeader = st.pointee.nb_frames > 0 ? Int(st.pointee.nb_frames) : nil
        frameCount = nil
        colorSpace = av_color_space_name(par.pointee.color_space).map { String(cString: $0) } ?? "unknown"
        colorRange = av_color_range_name(par.pointee.color_range).map { String(cString: $0) } ?? "unknown"
        colorPrimaries = av_color_primaries_name(par.pointee.color_primaries).map { String(cString: $0) } ?? "unknown"
        colorTransfer = av_color_transfer_name(par.pointee.color_trc).map { String(cString: $0) } ?? "unknown"
        streamIndex = Int(st.pointee.index)
        bitRate = par.pointee.bit_rate > 0 ? Int(par.pointee.bit_rate) : nil
    }

    /// Upright, square-pixel size of a `codedWidth` x `codedHeight` picture: width scaled by the
    /// SAR and rounded to the nearest integer (height kept), then axes swapped for 90/270 degrees.
    static func displaySize(codedWidth w: Int, codedHeight h: Int, sar: AVRational, orientation: Orientation) -> (Int, Int) {
        var dw = w
        if sar.num > 0 && sar.den > 0 && sar.num != sar.den {
            dw = max(1, Int((Double(w) * Double(sar.num) / Double(sar.den)).rounded()))
        }
        return orientation.swapsAxes ? (h, dw) : (dw, h)
    }
}
