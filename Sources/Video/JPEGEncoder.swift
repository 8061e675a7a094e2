// JPEG encoding in memory (FFmpeg's MJPEG encoder, full-range 4:4:4 so odd sizes need no
// padding): what `gar serve` sends for a frame. Still images on disk are written as PNG (ImageIO).
import CFFmpeg
import Foundation

extension ImageIO {
    /// `image` as JPEG bytes; `quality` 1 (best) ... 31 (smallest), FFmpeg's qscale.
    public static func jpegData(_ image: RGBImage, quality: Int = 4) throws -> Data {
        _ = ffmpegLogSetup
        let what = "JPEG encoder"
        let w = image.width, h = image.height
        guard w > 0, h > 0, image.pixels.count == w * h * 3 else {
            throw VideoError.writeFailed(path: what, reason: "empty image \(w)x\(h)")
        }
        guard let enc = avcodec_find_encoder(AV_CODEC_ID_MJPEG) else { throw VideoError.unsupportedCodec(path: what, codec: "mjpeg") }
        var ctx = avcodec_alloc_context3(enc)
        var frame = av_frame_alloc()
        var pkt = av_packet_alloc()
        var sws: OpaquePointer?
        defer {
            avcodec_free_context(&ctx)
            av_frame_free(&frame)
            av_packet_free(&pkt)
            if sws != nil { sws_freeContext(sws) }
        }
        guard let ctx, let frame, let pkt else { throw VideoError.writeFailed(path: what, reason: "out of memory") }
        let format = AV_PIX_FMT_YUVJ444P
        let q = Int32(min(31, max(1, quality)))
        ctx.pointee.width = Int32(w)
        ctx.pointee.height = Int32(h)
        ctx.pointee.pix_fmt = format
        ctx.pointee.color_range = AVCOL_RANGE_JPEG
        ctx.pointee.time_base = AVRational(num: 1, den: 25)
        ctx.pointee.flags |= Int32(AV_CODEC_FLAG_QSCALE)
        ctx.pointee.global_quality = q * Int32(FF_QP2LAMBDA)
        var r = avcodec_open2(ctx, enc, nil)
        guard r >= 0 else { throw VideoError.writeFailed(path: what, reason: ffError(r)) }
        frame.pointee.width = Int32(w)
        frame.pointee.height = Int32(h)
        frame.pointee.format = format.rawValue
        frame.pointee.quality = ctx.pointee.global_quality
        frame.pointee.pts = 0
        guard av_frame_get_buffer(frame, 0) >= 0 else { throw VideoError.writeFailed(path: what, reason: "out of memory") }
        sws = sws_getContext(Int32(w), Int32(h), AV_PIX_FMT_RGB24, Int32(w), Int32(h), format, Int32(SWS_BICUBIC), nil, nil, nil)
        guard sws != nil else { throw VideoError.writeFailed(path: what, reason: "swscale rgb24 -> yuvj444p failed") }
        r = image.pixels.withUnsafeBufferPointer { src -> Int32 in
            var srcData: [UnsafePointer<UInt8>?] = [src.baseAddress, nil, nil, nil]
            var srcStride: [Int32] = [Int32(w * 3), 0, 0, 0]
            return withUnsafeMutablePointer(to: &frame.pointee.data) { data in
                withUnsafeMutablePointer(to: &frame.pointee.linesize) { lines in
                    data.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { dst in
                        lines.withMemoryRebound(to: Int32.self, capacity: 8) { dstStride in
                            sws_scale(sws, &srcData, &srcStride, 0, Int32(h), dst, dstStride)
                        }
                    }
                }
            }
        }
        guard r >= 0 else { throw VideoError.writeFailed(path: what, reason: "swscale: \(ffError(r))") }
        r = avcodec_send_frame(ctx, frame)
        if r >= 0 { r = avcodec_send_frame(ctx, nil) }
        if r >= 0 { r = avcodec_receive_packet(ctx, pkt) }
        guard r >= 0 else { throw VideoError.writeFailed(path: what, reason: ffError(r)) }
        return Data(bytes: pkt.pointee.data, count: Int(pkt.pointee.size))
    }
}
