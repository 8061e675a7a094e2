// One opened video input: the demuxer, the chosen video stream and (optionally) its decoder.
// Internal; VideoReader builds its behaviour from it. All FFmpeg pointers live here and are
// freed in deinit. Not thread-safe: one session per thread.
import CFFmpeg

final class DecodeSession {
    let path: String
    let fmt: UnsafeMutablePointer<AVFormatContext>
    let streamIndex: Int32
    let stream: UnsafeMutablePointer<AVStream>
    private(set) var codec: UnsafeMutablePointer<AVCodecContext>?
    private let packet: UnsafeMutablePointer<AVPacket>
    /// The last decoded frame (valid until the next `nextFrame()`).
    let frame: UnsafeMutablePointer<AVFrame>

    private var flushSent = false
    private var pending = false            // `packet` holds a read packet not yet sent
    private var waitForKeyframe = false    // after a seek: drop packets before the first keyframe
    private var consecutiveErrors = 0

    /// Diagnostics of the decode so far (for "how far did it get" messages).
    private(set) var damagedPackets = 0
    private(set) var firstDamage: String?
    private(set) var readError: String?

    /// Opens `path`; with `decode` also opens the decoder with `threads` threads (0 = FFmpeg's
    /// automatic choice, one per core, as the ffmpeg CLI does).
    init(path: String, decode: Bool, threads: Int = 0) throws {
        _ = ffmpegLogSetup
        try checkInputFile(path)
        self.path = path
        var ctx: UnsafeMutablePointer<AVFormatContext>?
        var r = avformat_open_input(&ctx, path, nil, nil)
        guard r >= 0, let ctx else { throw VideoError.cannotOpen(path: path, reason: ffError(r)) }
        var ctxVar: UnsafeMutablePointer<AVFormatContext>? = ctx
        r = avformat_find_stream_info(ctx, nil)
        if r < 0 {
            avformat_close_input(&ctxVar)
            throw VideoError.cannotOpen(path: path, reason: ffError(r))
        }
        // The best video stream that is not a still cover picture.
        var index = av_find_best_stream(ctx, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        let isCover = { (i: Int32) -> Bool in
            (ctx.pointee.streams[Int(i)]!.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC) != 0
        }
        if index >= 0 && isCover(index) {
            index = -1
            for i in 0..<Int32(ctx.pointee.nb_streams)
            where ctx.pointee.streams[Int(i)]!.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO && !isCover(i) {
                index = i
                break
            }
        }
        guard index >= 0 else {
            avformat_close_input(&ctxVar)
            throw VideoError.noVideoStream(path: path)
        }
        for i in 0..<Int(ctx.pointee.nb_streams) where i != Int(index) {
            ctx.pointee.streams[i]!.pointee.discard = AVDISCARD_ALL
        }
        fmt = ctx
        streamIndex = index
        stream = ctx.pointee.streams[Int(index)]!
        packet = av_packet_alloc()!
        frame = av_frame_alloc()!
        if decode { try openDecoder(threads: threads) }
    }

    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = packet
        av_packet_free(&p)
        var f: UnsafeMutablePointer<AVFrame>? = frame
        av_frame_free(&f)
        if codec != nil { avcodec_free_context(&codec) }
        var c: UnsafeMutablePointer<AVFormatContext>? = fmt
        avformat_close_input(&c)
    }

    private func openDecoder(threads: Int) throws {
        let par = stream.pointee.codecpar!
        guard let dec = avcodec_find_decoder(par.pointee.codec_id) else {
            throw VideoError.unsupportedCodec(path: path, codec: String(cString: avcodec_get_name(par.pointee.codec_id)))
        }
        guard let ctx = avcodec_alloc_context3(dec) else {
            throw VideoError.decodeFailed(path: path, reason: "cannot allocate a decoder")
        }
        var r = avcodec_parameters_to_context(ctx, par)
        if r >= 0 {
            ctx.pointee.thread_count = Int32(max(0, threads))
            ctx.pointee.pkt_timebase = stream.pointee.time_base
            r = avcodec_open2(ctx, dec, nil)
        }
        if r < 0 {
            var c: UnsafeMutablePointer<AVCodecContext>? = ctx
            avcodec_free_context(&c)
            throw VideoError.decodeFailed(path: path, reason: "cannot open the \(String(cString: dec.pointee.name)) decoder: \(ffError(r))")
        }
        codec = ctx
    }

    // MARK: demuxing

    /// The next packet of the video stream, or nil at the end (or on a read error, kept in
    /// `readError`). The packet is valid until the next call.
    func readVideoPacket() -> UnsafeMutablePointer<AVPacket>? {
        if pending { pending = false; return packet }
        av_packet_unref(packet)
        while true {
            let r = av_read_frame(fmt, packet)
            if r < 0 {
                if r != AVERROR_EOF_CODE && readError == nil { readError = ffError(r) }
                return nil
            }
            if packet.pointee.stream_index == streamIndex {
                if waitForKeyframe {
                    if (packet.pointee.flags & AV_PKT_FLAG_KEY) == 0 { av_packet_unref(packet); continue }
                    waitForKeyframe = false
                }
                return packet
            }
            av_packet_unref(packet)
        }
    }

    /// Seeks (backward, to a keyframe at or before `timestamp`, in stream time base) and
    /// flushes the decoder. Returns the (pts, dts) of the keyframe packet decoding will start
    /// from, or nil if the seek failed or no keyframe follows.
    func seek(to timestamp: Int64) -> (pts: Int64, dts: Int64)? {
        av_packet_unref(packet)
        pending = false
        guard av_seek_frame(fmt, streamIndex, timestamp, AVSEEK_FLAG_BACKWARD) >= 0 else { return nil }
        if let codec { avcodec_flush_buffers(codec) }
        flushSent = false
        readError = nil
        waitForKeyframe = true
        guard let p = readVideoPacket() else { return nil }
        pending = true
        return (p.pointee.pts, p.pointee.dts)
    }

    // MARK: decoding

    /// The next decoded frame in presentation order, or nil at the end of the stream.
    /// Undecodable packets are skipped and counted in `damagedPackets`.
    func nextFrame() throws -> UnsafeMutablePointer<AVFrame>? {
        guard let codec else { preconditionFailure("DecodeSession opened without a decoder") }
        while true {
            let r = avcodec_receive_frame(codec, frame)
            if r == 0 { consecutiveErrors = 0; return frame }
            if r == AVERROR_EOF_CODE { return nil }
            if r != AVERROR_EAGAIN_CODE {
                try noteDamage(r)
                continue
            }
            if flushSent { return nil }
            guard let pkt = readVideoPacket() else {
                avcodec_send_packet(codec, nil)   // enter draining mode
                flushSent = true
                continue
            }
            let s = avcodec_send_packet(codec, pkt)
            av_packet_unref(pkt)
            if s < 0 && s != AVERROR_EAGAIN_CODE { try noteDamage(s) }
        }
    }

    private func noteDamage(_ code: Int32) throws {
        damagedPackets += 1
        consecutiveErrors += 1
        if firstDamage == nil { firstDamage = ffError(code) }
        if consecutiveErrors > 10_000 {
            throw VideoError.decodeFailed(path: path, reason: "decoder keeps failing: \(ffError(code))")
        }
    }

    /// A one-line note on damage seen so far, or nil when the decode was clean.
    var damageNote: String? {
        var parts: [String] = []
        if damagedPackets > 0 { parts.append("\(damagedPackets) undecodable packet(s), first: \(firstDamage ?? "?")") }
        if let readError { parts.append("read stopped: \(readError)") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}
