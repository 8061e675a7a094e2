// Display orientation: how a decoded picture (stored orientation) is turned upright.
// We follow the ffmpeg CLI's autorotate rules (fftools ffmpeg_filter.c, FFmpeg 5.1) so our
// frames match `ffmpeg -i X -pix_fmt rgb24` for rotated and flipped files.
import CFFmpeg

/// One of the 8 axis-aligned transforms. Names follow the ffmpeg `transpose`/`hflip`/`vflip`
/// filters; `clockwise` = transpose=clock, `counterClockwise` = transpose=cclock,
/// `transpose` = transpose=cclock_flip (x<->y), `transverse` = transpose=clock_flip.
public enum Orientation: String, Sendable, Codable, CaseIterable {
    case identity, hflip, vflip, rotate180, transpose, clockwise, counterClockwise, transverse

    /// True when the output is the input with width and height exchanged.
    public var swapsAxes: Bool {
        switch self {
        case .transpose, .clockwise, .counterClockwise, .transverse: return true
        default: return false
        }
    }

    /// The orientation the ffmpeg CLI applies for a display matrix (nil: none), and the
    /// clockwise rotation angle it derives (degrees in [0, 360)). Angles that are not a
    /// multiple of 90 (rare; ffmpeg rotates by the exact angle with black corners) are
    /// snapped to the nearest multiple of 90 here.
    public static func fromDisplayMatrix(_ m: [Int32]?) -> (orientation: Orientation, degrees: Double) {
        guard let m, m.count == 9 else { return (.identity, 0) }
        var theta = m.withUnsafeBufferPointer { -av_display_rotation_get($0.baseAddress).rounded() }
        if theta.isNaN { return (.identity, 0) }   // degenerate matrix
        theta -= 360 * (theta / 360 + 0.9 / 360).rounded(.down)
        let snapped = (theta / 90).rounded() * 90
        let t = abs(theta - snapped) < 1 ? theta : snapped
        if abs(t - 90) < 1 { return (m[3] > 0 ? .transpose : .clockwise, theta) }
        if abs(t - 180) < 1 {
            switch (m[0] < 0, m[4] < 0) {
            case (true, true): return (.rotate180, theta)
            case (true, false): return (.hflip, theta)
            case (false, true): return (.vflip, theta)
            case (false, false): return (.identity, theta)
            }
        }
        if abs(t - 270) < 1 { return (m[3] < 0 ? .transverse : .counterClockwise, theta) }
        if abs(t - 360) < 1 || abs(t) < 1 { return (m[4] < 0 ? .vflip : .identity, theta) }
        return (.identity, theta)
    }

    /// Applies the transform to a packed image.
    ///   src:  `height` rows of `width` pixels, `bytesPerPixel` bytes each, rows `stride` bytes apart
    ///   dst:  size (height, width) when `swapsAxes`, else (width, height); rows `dstStride` bytes
    ///         apart (nil: packed, no row padding)
    /// Output pixel (x, y) reads input byte offset `base + x*dx + y*dy` (table below).
    func apply(_ src: UnsafePointer<UInt8>, stride: Int, width w: Int, height h: Int,
               bytesPerPixel bpp: Int, into dst: UnsafeMutablePointer<UInt8>, dstStride: Int? = nil) {
        let outW = swapsAxes ? h : w
        let outH = swapsAxes ? w : h
        let outStride = dstStride ?? outW * bpp
        if self == .identity {
            for y in 0..<h { (dst + y * outStride).update(from: src + y * stride, count: w * bpp) }
            return
        }
        let last = (h - 1) * stride, right = (w - 1) * bpp
        let (base, dx, dy): (Int, Int, Int)
        switch self {
        case .identity: (base, dx, dy) = (0, bpp, stride)
        case .hflip: (base, dx, dy) = (right, -bpp, stride)
        case .vflip: (base, dx, dy) = (last, bpp, -stride)
        case .rotate180: (base, dx, dy) = (last + right, -bpp, -stride)
        case .transpose: (base, dx, dy) = (0, stride, bpp)                 // in = (y, x)
        case .clockwise: (base, dx, dy) = (last, -stride, bpp)             // in = (y, h-1-x)
        case .counterClockwise: (base, dx, dy) = (right, stride, -bpp)     // in = (w-1-y, x)
        case .transverse: (base, dx, dy) = (last + right, -stride, -bpp)   // in = (w-1-y, h-1-x)
        }
        for y in 0..<outH {
            var s = base + y * dy
            var d = dst + y * outStride
            if bpp == 3 {
                for _ in 0..<outW {
                    d[0] = src[s]; d[1] = src[s + 1]; d[2] = src[s + 2]
                    s += dx; d += 3
                }
            } else {
                for _ in 0..<outW {
                    for c in 0..<bpp { d[c] = src[s + c] }
                    s += dx; d += bpp
                }
            }
        }
    }

    /// The transform applied to a whole RGB image (naive, for tests and callers with images).
    public func apply(to image: RGBImage) -> RGBImage {
        let outW = swapsAxes ? image.height : image.width
        let outH = swapsAxes ? image.width : image.height
        var out = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                guard let sb = s.baseAddress, let db = d.baseAddress else { return }
                apply(sb, stride: image.width * 3, width: image.width, height: image.height, bytesPerPixel: 3, into: db)
            }
        }
        return RGBImage(width: outW, height: outH, pixels: out)
    }
}
