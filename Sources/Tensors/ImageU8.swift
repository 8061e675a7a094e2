// 8-bit images as they come out of a decoder: interleaved HWC bytes (RGB, or 1 channel for
// masks and prompt-id maps).

/// An interleaved 8-bit image: pixel `(y, x)`, channel `c` at `(y · width + x) · channels + c`.
public struct ImageU8: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && channels > 0, "ImageU8: bad size")
        precondition(pixels.count == width * height * channels, "ImageU8: \(pixels.count) bytes for \(width)×\(height)×\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Which torchvision resize to reproduce (see Kernels/Resize.swift).
    public enum BicubicPath: Sendable {
        /// torchvision v1 `F.resize` on uint8: float32 resampling, clamp, round — what GAR's image
        /// processor (transformers PerceptionLM) runs.
        case torchvisionV1Float
        /// torchvision v2 `F.resize` on uint8: native uint8 resampling with int16 weights.
        case torchvisionV2UInt8
    }

    /// Bicubic antialiased resize, bit-exact with the chosen torchvision path (default: GAR's).
    public func resizedBicubicAntialias(width w: Int, height h: Int, path: BicubicPath = .torchvisionV1Float) -> ImageU8 {
        var out = [UInt8](repeating: 0, count: w * h * channels)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                switch path {
                case .torchvisionV1Float:
                    Kernels.resizeBicubicAntialiasFloat(src, width: width, height: height, channels: channels, into: dst, width: w, height: h)
                case .torchvisionV2UInt8:
                    Kernels.resizeBicubicAntialias(src, width: width, height: height, channels: channels, into: dst, width: w, height: h)
                }
            }
        }
        return ImageU8(width: w, height: h, channels: channels, pixels: out)
    }

    /// Legacy nearest resize (torch `interpolate(mode="nearest")`).
    public func resizedNearest(width w: Int, height h: Int) -> ImageU8 {
        var out = [UInt8](repeating: 0, count: w * h * channels)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                Kernels.resizeNearest(src, width: width, height: height, channels: channels, into: dst, width: w, height: h)
            }
        }
        return ImageU8(width: w, height: h, channels: channels, pixels: out)
    }

    /// The sub-image `[y0 ..< y0+h, x0 ..< x0+w]` (for cutting tiles out of a canvas).
    public func cropped(x x0: Int, y y0: Int, width w: Int, height h: Int) -> ImageU8 {
        precondition(x0 >= 0 && y0 >= 0 && x0 + w <= width && y0 + h <= height, "ImageU8.cropped: out of bounds")
        var out = [UInt8]()
        out.reserveCapacity(w * h * channels)
        for y in y0 ..< y0 + h {
            let start = (y * width + x0) * channels
            out.append(contentsOf: pixels[start ..< start + w * channels])
        }
        return ImageU8(width: w, height: h, channels: channels, pixels: out)
    }
}
