// Decoded frame -> packed 8-bit RGB (or gray), with optional resize, then the display
// orientation. Colour conversion copies what the ffmpeg CLI's auto-inserted `scale` filter
// does in FFmpeg 5.1 (libavfilter/vf_scale.c), so `-pix_fmt rgb24` output is our reference:
//   * swscale flags SWS_BICUBIC (the CLI's default `sws_flags` for output streams);
//   * YCbCr->RGB matrix from the frame's colorspace tag (BT.709, BT.601, BT.2020, SMPTE-240M,
//     FCC); untagged or unknown -> BT.601;
//   * input range from the frame's range tag (full/"jpeg" or limited/"mpeg"); untagged ->
//     limited, except the yuvj* formats which swscale treats as full range;
//   * high bit depth (10/12-bit, HDR) is reduced to 8 bits by swscale: no tone mapping, no
//     primaries conversion (a PQ/HLG BT.2020 clip looks flat, exactly as with the CLI).
import CFFmpeg

final class RGBConverter {
    private struct Key: Equatable {
        var srcW: Int32, srcH: Int32, srcFmt: Int32, dstW: Int32, dstH: Int32, dstFmt: Int32
        var colorspace: UInt32, range: UInt32
    }
    private var sws: OpaquePointer?
    private var key: Key?
    private let dst: UnsafeMutablePointer<AVFrame>
    private let threads: Int
    private let flags: Int32

    /// swscale flags of the ffmpeg CLI (video frames).
    static let cliFlags = Int32(SWS_BICUBIC)
    /// Still images (JPEG): full chroma interpolation and accurate rounding come closest to
    /// libjpeg/PIL (measured on samples/images/photo.jpg: max 3 levels vs 9 with `cliFlags`).
    static let stillImageFlags = Int32(SWS_BICUBIC | SWS_FULL_CHR_H_INT | SWS_ACCURATE_RND)

    /// `threads`: swscale slice threads (output does not depend on it).
    init(threads: Int = 1, flags: Int32 = RGBConverter.cliFlags) {
        self.threads = max(1, threads)
        self.flags = flags
        dst = av_frame_alloc()!
    }

    deinit {
        sws_freeContext(sws)
        var f: UnsafeMutablePointer<AVFrame>? = dst
        av_frame_free(&f)
    }

    /// Converts `frame` to RGB of pre-orientation size (width, height), then applies `orientation`.
    func rgb(_ frame: UnsafePointer<AVFrame>, width: Int, height: Int, orientation: Orientation) throws -> RGBImage {
        try scale(frame, width: width, height: height, format: AV_PIX_FMT_RGB24.rawValue)
        let outW = orientation.swapsAxes ? height : width
        let outH = orientation.swapsAxes ? width : height
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * 3) { buf, n in
            orientation.apply(dst.pointee.data.0!, stride: Int(dst.pointee.linesize.0), width: width, height: height,
                              bytesPerPixel: 3, into: buf.baseAddress!)
            n = width * height * 3
        }
        return RGBImage(width: outW, height: outH, pixels: pixels)
    }

    /// Converts `frame` to 8-bit gray (luma for YUV input) of the same size.
    func gray(_ frame: UnsafePointer<AVFrame>) throws -> GrayImage {
        let w = Int(frame.pointee.width), h = Int(frame.pointee.height)
        try scale(frame, width: w, height: h, format: AV_PIX_FMT_GRAY8.rawValue)
        let pixels = [UInt8](unsafeUninitializedCapacity: w * h) { buf, n in
            Orientation.identity.apply(dst.pointee.data.0!, stride: Int(dst.pointee.linesize.0), width: w, height: h,
                                       bytesPerPixel: 1, into: buf.baseAddress!)
            n = w * h
        }
        return GrayImage(width: w, height: h, pixels: pixels)
    }

    /// Runs swscale into `dst` (re-creating the context when input or output changes).
    private func scale(_ frame: UnsafePointer<AVFrame>, width: Int, height: Int, format: Int32) throws {
        let k = Key(srcW: frame.pointee.width, srcH: frame.pointee.height, srcFmt: frame.pointee.format,
                    dstW: Int32(width), dstH: Int32(height), dstFmt: format,
                    colorspace: frame.pointee.colorspace.rawValue, range: frame.pointee.color_range.rawValue)
        if k != key {
            sws_freeContext(sws)
            sws = nil
            key = nil
            av_frame_unref(dst)
            dst.pointee.width = k.dstW
            dst.pointee.height = k.dstH
            dst.pointee.format = k.dstFmt
            // 64-byte aligned rows and swscale's own buffer conventions.
            guard av_frame_get_buffer(dst, 64) >= 0 else { throw ConvertError.failed("cannot allocate \(width)x\(height) output") }
            guard let ctx = sws_alloc_context() else { throw ConvertError.failed("sws_alloc_context failed") }
            let opaque = UnsafeMutableRawPointer(ctx)
            av_opt_set_int(opaque, "srcw", Int64(k.srcW), 0)
            av_opt_set_int(opaque, "srch", Int64(k.srcH), 0)
            av_opt_set_int(opaque, "src_format", Int64(k.srcFmt), 0)
            av_opt_set_int(opaque, "dstw", Int64(k.dstW), 0)
            av_opt_set_int(opaque, "dsth", Int64(k.dstH), 0)
            av_opt_set_int(opaque, "dst_format", Int64(k.dstFmt), 0)
            av_opt_set_int(opaque, "sws_flags", Int64(flags), 0)
            av_opt_set_int(opaque, "threads", Int64(threads), 0)
            if sws_init_context(ctx, nil, nil) < 0 {
                sws_freeContext(ctx)
                throw ConvertError.failed("swscale cannot convert \(pixelFormatName(k.srcFmt)) \(k.srcW)x\(k.srcH) to \(pixelFormatName(k.dstFmt)) \(width)x\(height)")
            }
            setColourDetails(ctx, colorspace: frame.pointee.colorspace, range: frame.pointee.color_range)
            sws = ctx
            key = k
        }
        let r = sws_scale_frame(sws, dst, frame)
        if r < 0 { throw ConvertError.failed("swscale: \(ffError(r))") }
    }

    /// vf_scale's `in_color_matrix=auto` and range handling (see the file header).
    private func setColourDetails(_ ctx: OpaquePointer, colorspace: AVColorSpace, range: AVColorRange) {
        var invTable: UnsafeMutablePointer<Int32>?
        var table: UnsafeMutablePointer<Int32>?
        var srcFull: Int32 = 0, dstFull: Int32 = 0, brightness: Int32 = 0, contrast: Int32 = 0, saturation: Int32 = 0
        guard sws_getColorspaceDetails(ctx, &invTable, &srcFull, &table, &dstFull,
                                       &brightness, &contrast, &saturation) >= 0 else { return }
        var cs = Int32(colorspace.rawValue)
        if cs < 1 || cs > 10 || cs == 8 { cs = Int32(AVCOL_SPC_BT470BG.rawValue) }
        let coefficients = sws_getCoefficients(cs)
        if range != AVCOL_RANGE_UNSPECIFIED { srcFull = range == AVCOL_RANGE_JPEG ? 1 : 0 }
        _ = sws_setColorspaceDetails(ctx, coefficients, srcFull, coefficients, dstFull,
                                     brightness, contrast, saturation)
    }

    enum ConvertError: Error { case failed(String) }
}
