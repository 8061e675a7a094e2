// VideoWriter: RGB frames -> a video file (overlay videos of the tracker, test clips).
//
//   let w = try VideoWriter(path: "overlay.mp4", width: 640, height: 360, fps: 25)
//   for image in images { try w.append(image) }
//   try w.finish()          // until then the output is a hidden temp file; it is renamed here
//
// Codec: H.264 (libx264, preset veryfast, CRF `quality`) when FFmpeg has it, else MPEG-4 part 2
// (qscale from `quality`). Pixel format yuv420p, BT.601 limited range, untagged — what the
// ffmpeg CLI writes from rgb24 input, and what VideoReader assumes for untagged streams.
// yuv420p needs even sizes: an odd width or height is padded by one column/row that repeats the
// last one (the file is then 1 px wider/taller than the images; `outputWidth/outputHeight`).
// The container follows the file extension (.mp4, .mov, .mkv, .avi, ...).
import CFFmpeg
import Foundation

public final class VideoWriter {
    public let path: String
    public let width: Int
    public let height: Int
    /// Size of the encoded video (width/height rounded up to even).
    public let outputWidth: Int
    public let outputHeight: Int
    public let fps: Double
    /// Codec used ("libx264" or "mpeg4").
    public let codecName: String

    /// The hidden file written until `finish()` renames it to `path`.
    public var temporaryPath: String { tmpPath }
    private let tmpPath: String
    private var fmt: UnsafeMutablePointer<AVFormatContext>?
    private var enc: UnsafeMutablePointer<AVCodecContext>?
    private var stream: UnsafeMutablePointer<AVStream>?
    private var yuv: UnsafeMutablePointer<AVFrame>?
    private var rgb: UnsafeMutablePointer<AVFrame>?
    private var pkt: UnsafeMutablePointer<AVPacket>?
    private var sws: OpaquePointer?
    private var nextPts: Int64 = 0
    private var finished = false

    /// Throws unless FFmpeg has a muxer for `path`'s extension (none: mp4) that takes the codec
    /// the writer uses (libx264, else mpeg4) —
    /// lets a command refuse `--overlay out.xyz` before any work instead of after it.
    public static func checkContainer(path: String) throws {
        _ = ffmpegLogSetup
        var st = stat()
        if stat(path, &st) == 0 && st.st_mode & S_IFMT != S_IFREG {   // a rename would replace /dev/… with a file
            throw VideoError.writeFailed(path: path, reason: "it exists and is not a regular file")
        }
        let ext = URL(fileURLWithPath: path).pathExtension
        let codec = avcodec_find_encoder_by_name("libx264") ?? avcodec_find_encoder(AV_CODEC_ID_MPEG4)
        guard let format = av_guess_format(nil, "x.\(ext.isEmpty ? "mp4" : ext)", nil), let codec,
              avformat_query_codec(format, codec.pointee.id, FF_COMPLIANCE_NORMAL) == 1 else {
            throw VideoError.writeFailed(path: path, reason: "cannot write a video with the extension '.\(ext)' (use .mp4, .mkv, .mov or .avi)")
        }
    }

    /// `quality`: libx264 CRF (0 best ... 51 worst; 20 default), or mpeg4 qscale = quality / 6.
    public init(path: String, width: Int, height: Int, fps: Double, quality: Int = 20) throws {
        _ = ffmpegLogSetup
        guard width > 0, height > 0, fps > 0, fps.isFinite else {
            throw VideoError.writeFailed(path: path, reason: "bad size \(width)x\(height) or frame rate \(fps)")
        }
        self.path = path
        self.width = width
        self.height = height
        self.fps = fps
        outputWidth = (width + 1) & ~1
        outputHeight = (height + 1) & ~1
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension.isEmpty ? "mp4" : url.pathExtension
        tmpPath = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.deletingPathExtension().lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max)).\(ext)").path

        let codec = avcodec_find_encoder_by_name("libx264") ?? avcodec_find_encoder(AV_CODEC_ID_MPEG4)
        guard let codec else { throw VideoError.unsupportedCodec(path: path, codec: "libx264/mpeg4") }
        codecName = String(cString: codec.pointee.name)
        do {
            try open(codec: codec, ext: ext, quality: quality)
        } catch {
            cleanup()
            try? FileManager.default.removeItem(atPath: tmpPath)
            throw error
        }
    }

    private func open(codec: UnsafePointer<AVCodec>, ext: String, quality: Int) throws {
        var r = avformat_alloc_output_context2(&fmt, nil, nil, tmpPath)
        guard r >= 0, let fmt else { throw VideoError.writeFailed(path: path, reason: "no muxer for .\(ext): \(ffError(r))") }
        guard let enc = avcodec_alloc_context3(codec), let st = avformat_new_stream(fmt, nil) else {
            throw VideoError.writeFailed(path: path, reason: "out of memory")
        }
        self.enc = enc
        stream = st
        let rate = av_d2q(fps, 100_000)
        enc.pointee.width = Int32(outputWidth)
        enc.pointee.height = Int32(outputHeight)
        enc.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        enc.pointee.time_base = AVRational(num: rate.den, den: rate.num)
        enc.pointee.framerate = rate
        enc.pointee.gop_size = max(1, Int32((fps * 2).rounded()))
        if (fmt.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER) != 0 {
            enc.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER)
        }
        var opts: OpaquePointer?
        if codecName == "libx264" {
            av_dict_set(&opts, "preset", "veryfast", 0)
            av_dict_set(&opts, "crf", "\(min(max(quality, 0), 51))", 0)
        } else {
            enc.pointee.flags |= Int32(AV_CODEC_FLAG_QSCALE)
            enc.pointee.global_quality = Int32(FF_QP2LAMBDA) * Int32(min(max(quality / 6, 1), 31))
        }
        r = avcodec_open2(enc, codec, &opts)
        av_dict_free(&opts)
        guard r >= 0 else { throw VideoError.writeFailed(path: path, reason: "cannot open the \(codecName) encoder: \(ffError(r))") }
        r = avcodec_parameters_from_context(st.pointee.codecpar, enc)
        guard r >= 0 else { throw VideoError.writeFailed(path: path, reason: ffError(r)) }
        st.pointee.time_base = enc.pointee.time_base
        st.pointee.avg_frame_rate = rate
        if (fmt.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 {
            r = avio_open(&fmt.pointee.pb, tmpPath, AVIO_FLAG_WRITE)
            guard r >= 0 else { throw VideoError.writeFailed(path: path, reason: ffError(r)) }
        }
        r = avformat_write_header(fmt, nil)
        guard r >= 0 else { throw VideoError.writeFailed(path: path, reason: "cannot write the header: \(ffError(r))") }

        yuv = av_frame_alloc()
        rgb = av_frame_alloc()
        pkt = av_packet_alloc()
        guard let yuv, let rgb, pkt != nil else { throw VideoError.writeFailed(path: path, reason: "out of memory") }
        yuv.pointee.width = Int32(outputWidth); yuv.pointee.height = Int32(outputHeight)
        yuv.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        rgb.pointee.width = Int32(outputWidth); rgb.pointee.height = Int32(outputHeight)
        rgb.pointee.format = AV_PIX_FMT_RGB24.rawValue
        guard av_frame_get_buffer(yuv, 64) >= 0, av_frame_get_buffer(rgb, 64) >= 0 else {
            throw VideoError.writeFailed(path: path, reason: "out of memory")
        }
        sws = sws_getContext(Int32(outputWidth), Int32(outputHeight), AV_PIX_FMT_RGB24,
                             Int32(outputWidth), Int32(outputHeight), AV_PIX_FMT_YUV420P,
                             Int32(SWS_BICUBIC), nil, nil, nil)
        guard sws != nil else { throw VideoError.writeFailed(path: path, reason: "swscale rgb24 -> yuv420p failed") }
    }

    /// Encodes one frame (must be width x height).
    public func append(_ image: RGBImage) throws {
        guard !finished else { throw VideoError.writeFailed(path: path, reason: "append after finish") }
        guard image.width == width, image.height == height else {
            throw VideoError.writeFailed(path: path, reason: "frame is \(image.width)x\(image.height), the video \(width)x\(height)")
        }
        guard let yuv, let rgb else { return }
        guard av_frame_make_writable(yuv) >= 0 else { throw VideoError.writeFailed(path: path, reason: "out of memory") }
        // Copy rows into the (even-sized) RGB frame, repeating the last column/row when padded.
        let stride = Int(rgb.pointee.linesize.0), dst = rgb.pointee.data.0!
        image.pixels.withUnsafeBufferPointer { p in
            for y in 0..<outputHeight {
                let sy = min(y, height - 1)
                let row = dst + y * stride
                row.update(from: p.baseAddress! + sy * width * 3, count: width * 3)
                if outputWidth > width {
                    for c in 0..<3 { row[width * 3 + c] = row[(width - 1) * 3 + c] }
                }
            }
        }
        let r = sws_scale_frame(sws, yuv, rgb)
        guard r >= 0 else { throw VideoError.writeFailed(path: path, reason: "swscale: \(ffError(r))") }
        yuv.pointee.pts = nextPts
        nextPts += 1
        try send(yuv)
    }

    /// Flushes the encoder, writes the trailer and renames the temp file to `path`.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        do {
            try send(nil)
            let r = av_write_trailer(fmt)
            guard r >= 0 else { throw VideoError.writeFailed(path: path, reason: "cannot write the trailer: \(ffError(r))") }
            cleanup()
            if rename(tmpPath, path) != 0 {
                throw VideoError.writeFailed(path: path, reason: String(cString: strerror(errno)))
            }
        } catch {
            cleanup()
            try? FileManager.default.removeItem(atPath: tmpPath)
            throw error
        }
    }

    /// Sends a frame (nil: flush) and writes every packet the encoder returns.
    private func send(_ frame: UnsafeMutablePointer<AVFrame>?) throws {
        guard let enc, let pkt, let stream, let fmt else { return }
        var r = avcodec_send_frame(enc, frame)
        guard r >= 0 else { throw VideoError.writeFailed(path: path, reason: "encoder: \(ffError(r))") }
        while true {
            r = avcodec_receive_packet(enc, pkt)
            if r == AVERROR_EAGAIN_CODE || r == AVERROR_EOF_CODE { return }
            guard r >= 0 else { throw VideoError.writeFailed(path: path, reason: "encoder: \(ffError(r))") }
            av_packet_rescale_ts(pkt, enc.pointee.time_base, stream.pointee.time_base)
            pkt.pointee.stream_index = stream.pointee.index
            r = av_interleaved_write_frame(fmt, pkt)
            guard r >= 0 else { throw VideoError.writeFailed(path: path, reason: "muxer: \(ffError(r))") }
        }
    }

    private func cleanup() {
        if let fmt {
            if (fmt.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 && fmt.pointee.pb != nil { avio_closep(&fmt.pointee.pb) }
            avformat_free_context(fmt)
            self.fmt = nil
        }
        if enc != nil { avcodec_free_context(&enc) }
        if yuv != nil { av_frame_free(&yuv) }
        if rgb != nil { av_frame_free(&rgb) }
        if pkt != nil { av_packet_free(&pkt) }
        if sws != nil { sws_freeContext(sws); sws = nil }
    }

    deinit {
        // Not finished: discard the partial output.
        if !finished {
            cleanup()
            try? FileManager.default.removeItem(atPath: tmpPath)
        }
    }
}
