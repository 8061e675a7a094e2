// Decoded frame -> packed 8-bit RGB (or gray), with optional resize, then the display
// orientation. Colour conversion copies what the ffmpeg CLI's auto-inserted `scale` filter
// does in FFmpeg 5.1 (libavfilter/vf_scale.c), so `-pix_fmt rgb24` output is our reference:
//   * swscale flags SWS_BICUBIC (the CLI's default `sws_flags` for output streams);
//   * YCbCr->RGB matrix from the frame's colorspace tag (BT.709, BT.601, BT.2020, SMPTE-240M,
//     FCC); untagged or unknown -> BT.601;
//   * input range from the frame's range tag (full/"jpeg" or limited/"mpeg"); untagged ->
//     limited, except the yuvj* formats which swscale treats as full range;
//   * high bit depth (10/12-bit, HDR) is reduced to 8 bits by swscale: no tone mapping, no
//     primaries conversion (a PQ/HLG BT.2020 clip looks flat, exactly as with the CLI);
//   * rotation/flips are applied to the YCbCr planes BEFORE conversion and resizing, as the CLI's
//     transpose/hflip/vflip filters run before its scale filter (so chroma upsampling and
//     resizing see the same grid). Formats where that is not possible (packed, or 4:2:2-like
//     subsampling with a 90-degree turn) are converted first and the RGB is turned.
import CFFmpeg

final class RGBConverter {
    private struct Key: Equatable {
        var srcW: Int32, srcH: Int32, srcFmt: Int32, dstW: Int32, dstH: Int32, dstFmt: Int32
        var colorspace: UInt32, range: UInt32
    }
    private var sws: OpaquePointer?
    private var key: Key?
    private let dst: UnsafeMutablePointer<AVFrame>
    /// Scratch frame for the turned planes (reused while format and size stay the same).
    private let turned: UnsafeMutablePointer<AVFrame>
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
        turned = av_frame_alloc()!
    }

    deinit {
        sws_freeContext(sws)
        var f: UnsafeMutablePointer<AVFrame>? = dst
        av_frame_free(&f)
        var t: UnsafeMutablePointer<AVFrame>? = turned
        av_frame_free(&t)
    }

    /// Turns `frame` upright by `orientation`, converts it to RGB and resizes it to the final
    /// (upright) size `width` x `height`.
    func rgb(_ frame: UnsafePointer<AVFrame>, width: Int, height: Int, orientation: Orientation) throws -> RGBImage {
        if orientation != .identity, try turnPlanes(frame, orientation) {
            return try packedRGB(from: turned, width: width, height: height, orientation: .identity)
        }
        // Convert at the pre-rotation size, then turn the RGB.
        let (w, h) = orientation.swapsAxes ? (height, width) : (width, height)
        return try packedRGB(from: frame, width: w, height: h, orientation: orientation)
    }

    private func packedRGB(from frame: UnsafePointer<AVFrame>, width: Int, height: Int,
                           orientation: Orientation) throws -> RGBImage {
        if orientation == .identity && width % 16 == 0 {
            return try directRGB(from: frame, width: width, height: height)
        }
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

    /// swscale writing straight into the output array (saves a copy of every frame). Only for
    /// widths that are a multiple of 16: rows are then 16-byte aligned (48·k bytes) and whole
    /// 8-pixel groups, which swscale's SIMD writers need; 64 spare bytes of capacity absorb any
    /// write past the last row. Same context and colour settings as `scale`, so the bytes are
    /// identical to the copying path.
    private func directRGB(from frame: UnsafePointer<AVFrame>, width: Int, height: Int) throws -> RGBImage {
        try prepare(frame, width: width, height: height, format: AV_PIX_FMT_RGB24.rawValue)
        let count = width * height * 3
        var failure: Int32 = 0
        let srcData = planes(frame).map { UnsafePointer($0) }
        let srcStride = strides(frame).map { Int32($0) }
        let pixels = [UInt8](unsafeUninitializedCapacity: count + 64) { buf, n in
            let dstData: [UnsafeMutablePointer<UInt8>?] = [buf.baseAddress, nil, nil, nil]
            let dstStride: [Int32] = [Int32(width * 3), 0, 0, 0]
            let r = sws_scale(sws, srcData, srcStride, 0, frame.pointee.height, dstData, dstStride)
            if r < 0 { failure = r }
            n = count
        }
        if failure < 0 { throw ConvertError.failed("swscale: \(ffError(failure))") }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Applies `orientation` to every plane of a planar frame into `turned`. Returns false (and
    /// does nothing) for formats it cannot turn: packed/bitstream/hardware formats, samples wider
    /// than 16 bits, or unequal chroma subsampling with a 90-degree turn (it would change the format).
    ///   plane p of a WxH frame: AV_CEIL_RSHIFT(W, log2_chroma_w) x AV_CEIL_RSHIFT(H, log2_chroma_h)
    ///   samples for chroma planes (1, 2), full size for luma (0) and alpha (3); 1 or 2 bytes each.
    private func turnPlanes(_ frame: UnsafePointer<AVFrame>, _ orientation: Orientation) throws -> Bool {
        guard let desc = av_pix_fmt_desc_get(AVPixelFormat(rawValue: frame.pointee.format)) else { return false }
        let flags = desc.pointee.flags
        let planar = (flags & UInt64(AV_PIX_FMT_FLAG_PLANAR)) != 0 || desc.pointee.nb_components == 1
        let unsupported = UInt64(AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_PAL)
        guard planar, (flags & unsupported) == 0 else { return false }
        let cw = Int(desc.pointee.log2_chroma_w), ch = Int(desc.pointee.log2_chroma_h)
        if orientation.swapsAxes && cw != ch { return false }
        let depth = Int(desc.pointee.comp.0.depth)
        guard depth <= 16 else { return false }
        let bytes = depth > 8 ? 2 : 1
        let w = Int(frame.pointee.width), h = Int(frame.pointee.height)
        let (tw, th) = orientation.swapsAxes ? (h, w) : (w, h)
        if turned.pointee.width != Int32(tw) || turned.pointee.height != Int32(th) || turned.pointee.format != frame.pointee.format {
            av_frame_unref(turned)
            turned.pointee.width = Int32(tw)
            turned.pointee.height = Int32(th)
            turned.pointee.format = frame.pointee.format
            guard av_frame_get_buffer(turned, 64) >= 0 else { throw ConvertError.failed("cannot allocate \(tw)x\(th) frame") }
        }
        // Colour tags drive the conversion: copy them.
        turned.pointee.colorspace = frame.pointee.colorspace
        turned.pointee.color_range = frame.pointee.color_range
        turned.pointee.color_primaries = frame.pointee.color_primaries
        turned.pointee.color_trc = frame.pointee.color_trc
        let nPlanes = Int(av_pix_fmt_count_planes(AVPixelFormat(rawValue: frame.pointee.format)))
        let src = planes(frame), srcStride = strides(frame)
        let out = planes(turned), outStride = strides(turned)
        for p in 0..<nPlanes {
            guard let s = src[p], let d = out[p] else { return false }
            let chroma = p == 1 || p == 2
            let pw = chroma ? -((-w) >> cw) : w, ph = chroma ? -((-h) >> ch) : h
            orientation.apply(s, stride: srcStride[p], width: pw, height: ph, bytesPerPixel: bytes, into: d,
                              dstStride: outStride[p])
        }
        return true
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

    /// Runs swscale into `dst`.
    private func scale(_ frame: UnsafePointer<AVFrame>, width: Int, height: Int, format: Int32) throws {
        try prepare(frame, width: width, height: height, format: format)
        let r = sws_scale_frame(sws, dst, frame)
        if r < 0 { throw ConvertError.failed("swscale: \(ffError(r))") }
    }

    /// (Re)creates the swscale context and the `dst` frame when input or output changes.
    private func prepare(_ frame: UnsafePointer<AVFrame>, width: Int, height: Int, format: Int32) throws {
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

extension RGBConverter {
    /// Resizes a packed RGB image (bicubic, swscale, as video frames are resized).
    func resize(_ image: RGBImage, width: Int, height: Int) throws -> RGBImage {
        if image.width == width && image.height == height { return image }
        var frame = av_frame_alloc()
        defer { av_frame_free(&frame) }
        guard let src = frame else { throw ConvertError.failed("out of memory") }
        src.pointee.width = Int32(image.width)
        src.pointee.height = Int32(image.height)
        src.pointee.format = AV_PIX_FMT_RGB24.rawValue
        guard av_frame_get_buffer(src, 64) >= 0 else { throw ConvertError.failed("out of memory") }
        let stride = Int(src.pointee.linesize.0), row = image.width * 3
        image.pixels.withUnsafeBufferPointer { p in
            for y in 0..<image.height {
                (src.pointee.data.0! + y * stride).update(from: p.baseAddress! + y * row, count: row)
            }
        }
        return try rgb(src, width: width, height: height, orientation: .identity)
    }
}
