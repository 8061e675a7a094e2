// Still images (PNG, JPEG; other formats FFmpeg recognises) read and PNG written through FFmpeg.
//
// readRGB follows PIL's `Image.open(p).convert("RGB")`, byte for byte for PNG:
//   RGB                 as is
//   RGBA / gray+alpha   alpha dropped, no compositing
//   gray (L), 1-bit     gray replicated to R=G=B (1-bit: 0 or 255)
//   palette (P)         looked up in the palette (palette transparency dropped)
//   16-bit RGB(A)       high byte of each sample (what PIL does when it opens them as RGB/RGBA)
//   16-bit gray         the value clipped to 255, as PIL converts its "I;16" mode (so a full-range
//                       16-bit photo comes out mostly white — exactly what the reference sees)
//   16-bit gray+alpha   high byte of the gray sample (PIL opens it as RGBA of high bytes)
//   JPEG                FFmpeg's decoder + swscale (bicubic, full chroma interpolation, accurate
//                       rounding, full range); libjpeg (PIL) upsamples chroma differently, so colour
//                       JPEGs differ from PIL by a few levels (more at sharp colour edges); gray
//                       JPEGs are exact.
//
// readLabels returns raw single-channel values (for masks and DAVIS annotations):
//   palette PNG         palette INDICES (DAVIS object ids), not colours
//   gray 8-bit          the value; 1-bit: 0 or 1 (as numpy sees a PIL "1" image)
//   gray 16-bit         the value; a value above 255 is an error (labels are 8-bit here)
//   gray+alpha          the gray value (alpha ignored)
//   RGB / RGBA          255 where any of R, G, B is nonzero, else 0 (alpha ignored)
//   colour JPEG         the luma plane (JPEG is lossy: store masks as PNG)
// readMask is readLabels reduced to 0/1 (nonzero = inside), where any 16-bit value counts.
//
// Bounds: an image of more than `maxPixels` pixels is refused from its header, before FFmpeg
// allocates it.
import CFFmpeg
import Foundation

public enum ImageIO {
    /// Most pixels of an image read (2^26: 8192×8192; an 8K frame has 33 M).
    public static let maxPixels = 1 << 26

    /// Any PNG/JPEG FFmpeg decodes, as 8-bit RGB (rules in the file header).
    public static func readRGB(_ path: String) throws -> RGBImage {
        try withDecodedImage(path) { f in
            let w = Int(f.pointee.width), h = Int(f.pointee.height)
            let fmt = AVPixelFormat(rawValue: f.pointee.format)
            let src = f.pointee.data.0!, stride = Int(f.pointee.linesize.0)
            var out = [UInt8](repeating: 0, count: w * h * 3)
            // Per-pixel source byte offsets for R, G, B and the pixel size, for packed formats.
            func packed(_ bpp: Int, _ r: Int, _ g: Int, _ b: Int) {
                for y in 0..<h {
                    let row = src + y * stride
                    for x in 0..<w {
                        let p = row + x * bpp, o = (y * w + x) * 3
                        out[o] = p[r]; out[o + 1] = p[g]; out[o + 2] = p[b]
                    }
                }
            }
            switch fmt {
            case AV_PIX_FMT_RGB24: packed(3, 0, 1, 2)
            case AV_PIX_FMT_RGBA: packed(4, 0, 1, 2)
            case AV_PIX_FMT_RGB48BE: packed(6, 0, 2, 4)        // big-endian: high byte first
            case AV_PIX_FMT_RGBA64BE: packed(8, 0, 2, 4)
            case AV_PIX_FMT_GRAY8: packed(1, 0, 0, 0)
            case AV_PIX_FMT_YA8: packed(2, 0, 0, 0)
            case AV_PIX_FMT_GRAY16BE:
                for y in 0..<h {
                    let row = src + y * stride
                    for x in 0..<w {
                        let v = row[2 * x] != 0 ? 255 : row[2 * x + 1], o = (y * w + x) * 3
                        out[o] = v; out[o + 1] = v; out[o + 2] = v
                    }
                }
            case AV_PIX_FMT_YA16BE: packed(4, 0, 0, 0)
            case AV_PIX_FMT_PAL8:
                let pal = UnsafeRawPointer(f.pointee.data.1!).assumingMemoryBound(to: UInt32.self)
                for y in 0..<h {
                    let row = src + y * stride
                    for x in 0..<w {
                        let c = pal[Int(row[x])], o = (y * w + x) * 3   // native-endian 0xAARRGGBB
                        out[o] = UInt8((c >> 16) & 0xFF); out[o + 1] = UInt8((c >> 8) & 0xFF); out[o + 2] = UInt8(c & 0xFF)
                    }
                }
            case AV_PIX_FMT_MONOBLACK, AV_PIX_FMT_MONOWHITE:
                let one: UInt8 = fmt == AV_PIX_FMT_MONOBLACK ? 255 : 0
                for y in 0..<h {
                    let row = src + y * stride
                    for x in 0..<w {
                        let bit = (row[x >> 3] >> (7 - UInt8(x & 7))) & 1
                        let v = bit == 1 ? one : 255 - one, o = (y * w + x) * 3
                        out[o] = v; out[o + 1] = v; out[o + 2] = v
                    }
                }
            default:
                // YUV (JPEG) and anything else: swscale, as the video path converts.
                do {
                    return try RGBConverter(threads: 1, flags: RGBConverter.stillImageFlags).rgb(f, width: w, height: h, orientation: .identity)
                } catch let RGBConverter.ConvertError.failed(reason) {
                    throw VideoError.badImage(path: path, reason: reason)
                }
            }
            return RGBImage(width: w, height: h, pixels: out)
        }
    }

    /// Raw single-channel label values (rules in the file header).
    public static func readLabels(_ path: String) throws -> GrayImage {
        try singleChannel(path) { hi, lo in
            if hi != 0 {
                throw VideoError.badImage(path: path, reason: "16-bit label value \(Int(hi) << 8 | Int(lo)) is above 255")
            }
            return lo
        }
    }

    /// A region mask: 1 where the value `readLabels` reads is nonzero, else 0 — except that a
    /// 16-bit sample counts as nonzero whatever its size (a 0/65535 mask is a mask, not labels).
    public static func readMask(_ path: String) throws -> GrayImage {
        let g = try singleChannel(path) { hi, lo in hi | lo }
        return GrayImage(width: g.width, height: g.height, pixels: g.pixels.map { $0 != 0 ? 1 : 0 })
    }

    /// One value per pixel (rules of readLabels); `wide` maps a 16-bit sample (high, low byte).
    private static func singleChannel(_ path: String, wide: @escaping (UInt8, UInt8) throws -> UInt8) throws -> GrayImage {
        try withDecodedImage(path) { f in
            let w = Int(f.pointee.width), h = Int(f.pointee.height)
            let fmt = AVPixelFormat(rawValue: f.pointee.format)
            let src = f.pointee.data.0!, stride = Int(f.pointee.linesize.0)
            var out = [UInt8](repeating: 0, count: w * h)
            func each(_ value: (UnsafeMutablePointer<UInt8>, Int) throws -> UInt8) rethrows {
                for y in 0..<h {
                    let row = src + y * stride
                    for x in 0..<w { out[y * w + x] = try value(row, x) }
                }
            }
            switch fmt {
            case AV_PIX_FMT_PAL8, AV_PIX_FMT_GRAY8: each { row, x in row[x] }
            case AV_PIX_FMT_YA8: each { row, x in row[2 * x] }
            case AV_PIX_FMT_GRAY16BE: try each { row, x in try wide(row[2 * x], row[2 * x + 1]) }
            case AV_PIX_FMT_YA16BE: try each { row, x in try wide(row[4 * x], row[4 * x + 1]) }
            case AV_PIX_FMT_MONOBLACK: each { row, x in (row[x >> 3] >> (7 - UInt8(x & 7))) & 1 }
            case AV_PIX_FMT_MONOWHITE: each { row, x in 1 - ((row[x >> 3] >> (7 - UInt8(x & 7))) & 1) }
            case AV_PIX_FMT_RGB24: each { row, x in row[3 * x] | row[3 * x + 1] | row[3 * x + 2] != 0 ? 255 : 0 }
            case AV_PIX_FMT_RGBA: each { row, x in row[4 * x] | row[4 * x + 1] | row[4 * x + 2] != 0 ? 255 : 0 }
            case AV_PIX_FMT_RGB48BE:
                each { row, x in (0..<6).contains { row[6 * x + $0] != 0 } ? 255 : 0 }
            case AV_PIX_FMT_RGBA64BE:
                each { row, x in (0..<6).contains { row[8 * x + $0] != 0 } ? 255 : 0 }
            default:
                do {
                    return try RGBConverter(threads: 1).gray(f)
                } catch let RGBConverter.ConvertError.failed(reason) {
                    throw VideoError.badImage(path: path, reason: reason)
                }
            }
            return GrayImage(width: w, height: h, pixels: out)
        }
    }

    /// Writes an RGB PNG (atomically: temp file + rename).
    public static func writePNG(_ image: RGBImage, to path: String) throws {
        try encodePNG(path: path, width: image.width, height: image.height, format: AV_PIX_FMT_RGB24,
                      rowBytes: image.width * 3, pixels: image.pixels, palette: nil)
    }

    /// Writes an 8-bit gray PNG (atomically).
    public static func writePNG(_ image: GrayImage, to path: String) throws {
        try encodePNG(path: path, width: image.width, height: image.height, format: AV_PIX_FMT_GRAY8,
                      rowBytes: image.width, pixels: image.pixels, palette: nil)
    }

    /// Writes a palette PNG (PAL8) whose pixel values are the label indices, DAVIS-style.
    /// `palette[i]` is the colour of label i (missing entries are black); at most 256 entries.
    public static func writePalettePNG(_ labels: GrayImage, palette: [(UInt8, UInt8, UInt8)], to path: String) throws {
        guard palette.count <= 256 else {
            throw VideoError.writeFailed(path: path, reason: "a palette holds at most 256 colours, got \(palette.count)")
        }
        try encodePNG(path: path, width: labels.width, height: labels.height, format: AV_PIX_FMT_PAL8,
                      rowBytes: labels.width, pixels: labels.pixels, palette: palette)
    }

    /// `image` resized to width x height with swscale bicubic (what video frames get with
    /// `OutputSize`; matches the ffmpeg CLI's `scale=W:H:flags=bicubic` on RGB input).
    public static func resized(_ image: RGBImage, width: Int, height: Int) throws -> RGBImage {
        guard width > 0, height > 0, image.width > 0, image.height > 0 else {
            throw VideoError.invalidRequest(path: "image", reason: "cannot resize \(image.width)x\(image.height) to \(width)x\(height)")
        }
        do {
            return try RGBConverter(threads: 1).resize(image, width: width, height: height)
        } catch let RGBConverter.ConvertError.failed(reason) {
            throw VideoError.invalidRequest(path: "image", reason: reason)
        }
    }

    /// The DAVIS 2017 annotation palette (label 0 black, 1 (128,0,0), 2 (0,128,0), ... — the
    /// PASCAL VOC colour map).
    public static let davisPalette: [(UInt8, UInt8, UInt8)] = (0..<256).map { i in
        var r = 0, g = 0, b = 0, c = i
        for j in 0..<8 {
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        }
        return (UInt8(r), UInt8(g), UInt8(b))
    }

    // MARK: FFmpeg plumbing

    /// Decodes the first picture of an image file and passes the frame to `body`.
    static func withDecodedImage<T>(_ path: String, _ body: (UnsafePointer<AVFrame>) throws -> T) throws -> T {
        _ = ffmpegLogSetup
        try checkInputFile(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw VideoError.badImage(path: path, reason: "cannot read the file")
        }
        let bytes = [UInt8](data)
        let codecID: AVCodecID?
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            codecID = AV_CODEC_ID_PNG
        } else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            codecID = AV_CODEC_ID_MJPEG
        } else {
            codecID = nil
        }
        if let (w, h) = headerSize(bytes) { try checkSize(w, h, path: path) }
        guard let codecID else {
            // Other formats (BMP, WebP, TIFF, ...): let FFmpeg probe the file.
            let s: DecodeSession
            do {
                s = try DecodeSession(path: path, decode: true, threads: 1)
            } catch VideoError.cannotOpen(_, let reason) {
                throw VideoError.badImage(path: path, reason: "not a PNG or JPEG, and FFmpeg cannot open it: \(reason)")
            } catch VideoError.noVideoStream {
                throw VideoError.badImage(path: path, reason: "not an image")
            }
            // A video file would decode as its first frame: a mask or image argument must be a
            // still picture (FFmpeg's image demuxers: image2, *_pipe, gif).
            let demuxer = String(cString: s.fmt.pointee.iformat.pointee.name)
            guard demuxer == "image2" || demuxer == "gif" || demuxer.hasSuffix("_pipe") else {
                throw VideoError.invalidRequest(path: path, reason: "is a video, not a still image (give a PNG or JPEG)")
            }
            let par = s.stream.pointee.codecpar.pointee
            try checkSize(Int(par.width), Int(par.height), path: path)
            guard let f = try s.nextFrame() else { throw VideoError.badImage(path: path, reason: "no picture decoded") }
            try checkSize(Int(f.pointee.width), Int(f.pointee.height), path: path)
            return try body(f)
        }
        guard let dec = avcodec_find_decoder(codecID) else {
            throw VideoError.unsupportedCodec(path: path, codec: String(cString: avcodec_get_name(codecID)))
        }
        var ctx = avcodec_alloc_context3(dec)
        var frame = av_frame_alloc()
        var pkt = av_packet_alloc()
        defer {
            avcodec_free_context(&ctx)
            av_frame_free(&frame)
            av_packet_free(&pkt)
        }
        guard let ctx, let frame, let pkt else { throw VideoError.badImage(path: path, reason: "out of memory") }
        ctx.pointee.thread_count = 1
        ctx.pointee.max_pixels = Int64(maxPixels)   // FFmpeg refuses larger pictures before allocating them
        var r = avcodec_open2(ctx, dec, nil)
        guard r >= 0 else { throw VideoError.badImage(path: path, reason: "cannot open decoder: \(ffError(r))") }
        guard av_new_packet(pkt, Int32(bytes.count)) >= 0 else { throw VideoError.badImage(path: path, reason: "out of memory") }
        bytes.withUnsafeBufferPointer { pkt.pointee.data.update(from: $0.baseAddress!, count: bytes.count) }
        pkt.pointee.flags |= AV_PKT_FLAG_KEY
        r = avcodec_send_packet(ctx, pkt)
        if r < 0 { throw VideoError.badImage(path: path, reason: ffError(r)) }
        avcodec_send_packet(ctx, nil)
        r = avcodec_receive_frame(ctx, frame)
        if r < 0 { throw VideoError.badImage(path: path, reason: ffError(r)) }
        try checkSize(Int(frame.pointee.width), Int(frame.pointee.height), path: path)
        return try body(frame)
    }

    /// Refuses a picture larger than `maxPixels` (or without pixels).
    static func checkSize(_ w: Int, _ h: Int, path: String) throws {
        guard w > 0, h > 0 else { return }   // unknown yet (the decoder reports a real error)
        let (pixels, overflow) = w.multipliedReportingOverflow(by: h)
        guard !overflow, pixels <= maxPixels else {
            throw VideoError.badImage(path: path, reason: "the image is \(w)x\(h), more than the \(maxPixels) pixels gar reads")
        }
    }

    /// Width and height from a PNG IHDR or a JPEG SOF header, when the file starts with one.
    static func headerSize(_ b: [UInt8]) -> (Int, Int)? {
        func be(_ i: Int, _ n: Int) -> Int { (i ..< i + n).reduce(0) { $0 << 8 | Int(b[$1]) } }
        if b.count >= 24, b.starts(with: [0x89, 0x50, 0x4E, 0x47]), b[12 ..< 16].elementsEqual("IHDR".utf8) {
            return (be(16, 4), be(20, 4))
        }
        guard b.starts(with: [0xFF, 0xD8]) else { return nil }
        var i = 2
        while i + 9 < b.count, b[i] == 0xFF {   // marker segments up to the frame header
            let marker = b[i + 1]
            if (0xC0 ... 0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                return (be(i + 7, 2), be(i + 5, 2))
            }
            i += 2 + be(i + 2, 2)
        }
        return nil
    }

    /// Encodes packed rows as a PNG and writes it atomically.
    ///   pixels: height rows of `rowBytes` bytes (RGB24: 3/pixel, GRAY8/PAL8: 1/pixel)
    static func encodePNG(path: String, width: Int, height: Int, format: AVPixelFormat, rowBytes: Int,
                          pixels: [UInt8], palette: [(UInt8, UInt8, UInt8)]?) throws {
        _ = ffmpegLogSetup
        guard width > 0, height > 0 else { throw VideoError.writeFailed(path: path, reason: "empty image \(width)x\(height)") }
        guard let enc = avcodec_find_encoder(AV_CODEC_ID_PNG) else {
            throw VideoError.unsupportedCodec(path: path, codec: "png")
        }
        var ctx = avcodec_alloc_context3(enc)
        var frame = av_frame_alloc()
        var pkt = av_packet_alloc()
        defer {
            avcodec_free_context(&ctx)
            av_frame_free(&frame)
            av_packet_free(&pkt)
        }
        guard let ctx, let frame, let pkt else { throw VideoError.writeFailed(path: path, reason: "out of memory") }
        ctx.pointee.width = Int32(width)
        ctx.pointee.height = Int32(height)
        ctx.pointee.pix_fmt = format
        ctx.pointee.time_base = AVRational(num: 1, den: 1)
        var r = avcodec_open2(ctx, enc, nil)
        guard r >= 0 else { throw VideoError.writeFailed(path: path, reason: "PNG encoder: \(ffError(r))") }
        frame.pointee.width = Int32(width)
        frame.pointee.height = Int32(height)
        frame.pointee.format = format.rawValue
        guard av_frame_get_buffer(frame, 0) >= 0 else { throw VideoError.writeFailed(path: path, reason: "out of memory") }
        let dst = frame.pointee.data.0!, stride = Int(frame.pointee.linesize.0)
        pixels.withUnsafeBufferPointer { src in
            for y in 0..<height { (dst + y * stride).update(from: src.baseAddress! + y * rowBytes, count: rowBytes) }
        }
        if let palette {
            let pal = UnsafeMutableRawPointer(frame.pointee.data.1!).assumingMemoryBound(to: UInt32.self)
            for i in 0..<256 {
                let (cr, cg, cb) = i < palette.count ? palette[i] : (0, 0, 0)
                pal[i] = 0xFF00_0000 | UInt32(cr) << 16 | UInt32(cg) << 8 | UInt32(cb)
            }
        }
        r = avcodec_send_frame(ctx, frame)
        if r >= 0 { r = avcodec_send_frame(ctx, nil) }
        if r >= 0 { r = avcodec_receive_packet(ctx, pkt) }
        guard r >= 0 else { throw VideoError.writeFailed(path: path, reason: "PNG encoder: \(ffError(r))") }
        let data = Data(bytes: pkt.pointee.data, count: Int(pkt.pointee.size))
        try writeAtomically(data, to: path)
    }
}
