// Image and visual-prompt preprocessing (GAR-SPEC §3), as the PerceptionLM fast image processor with
// GAR's changes does it:
//
//   thumb+tile (image mode): tile 0 = the whole image squashed to tile×tile; tiles 1… = the image
//       squashed to (ncw·tile)×(nch·tile) and cut row-major. Bicubic antialias resize through float32
//       as torchvision v1 `F.resize` does it (the PLM processor imports the v1 API), bit-exact with
//       the reference: Tensors `ImageU8.resizedBicubicAntialias` (default path .torchvisionV1Float).
//   vanilla (video mode, one tile per frame): the frame squashed to tile×tile.
//
// Visual prompts: the reference builds an id map (region k → k, background → <NO_Prompt>), resizes
// it with the same grid and legacy NEAREST, and the tower sees only `id ≠ <NO_Prompt>` (§3.5, §15.6).
// That binary map is the union of the region masks, and nearest resizing commutes with the per-pixel
// test, so we resize the union mask directly (checked against the goldens' id map and mask tiles).
//
// Normalisation (§3.4): (float(u8) − mean') / std' in Float32 with mean' = mean / rescale_factor and
// std' = std / rescale_factor (transformers fuses rescale and normalise; 127.5 for GAR).
import Checkpoints
import Tensors

/// One model input tile: RGB bytes and the binary region mask, both `size × size`.
public struct TileInput: Sendable, Equatable {
    /// Interleaved RGB, `size × size × 3`.
    public var rgb: ImageU8
    /// `size × size` bytes, 1 inside any region, 0 outside.
    public var mask: [UInt8]

    public init(rgb: ImageU8, mask: [UInt8]) {
        self.rgb = rgb
        self.mask = mask
    }
}

/// Preprocessing settings resolved from `preprocessor_config.json`.
public struct ImageProcessor: Sendable {
    public let tileSize: Int
    public let maxNumTiles: Int
    /// Per-channel normalisation constants in u8 units (mean', std').
    public let mean: [Float]
    public let std: [Float]

    public init(_ config: PreprocessorConfig.Resolved) {
        tileSize = config.tileSize
        maxNumTiles = config.maxNumTiles
        // transformers `_fuse_mean_std_and_rescale_factor`: mean * (1 / rescale_factor) in Python
        // floats, then float32.
        let inv = 1.0 / Double(config.rescaleFactor)
        mean = config.imageMean.map { Float(Double($0) * inv) }
        std = config.imageStd.map { Float(Double($0) * inv) }
    }

    /// The grid image mode uses for a `width × height` image.
    public func grid(width: Int, height: Int) -> TileGrid {
        TileGrid.choose(width: width, height: height, maxTiles: maxNumTiles, tileSize: tileSize)
    }

    /// Image mode: thumbnail + grid tiles of an RGB image and of the union mask of its regions.
    /// `mask` is `width × height` bytes, nonzero inside any region (read in place, not copied).
    public func thumbAndTiles(image: ImageU8, mask: [UInt8]) -> (grid: TileGrid, tiles: [TileInput]) {
        precondition(image.channels == 3 && mask.count == image.width * image.height, "thumbAndTiles: sizes")
        let grid = self.grid(width: image.width, height: image.height)
        let maskImage = ImageU8(width: image.width, height: image.height, channels: 1, pixels: mask)
        let s = tileSize
        var tiles = [TileInput(rgb: image.resizedBicubicAntialias(width: s, height: s),
                               mask: Self.binary(maskImage.resizedNearest(width: s, height: s)))]
        let canvas = image.resizedBicubicAntialias(width: grid.columns * s, height: grid.rows * s)
        let maskCanvas = maskImage.resizedNearest(width: grid.columns * s, height: grid.rows * s)
        for r in 0 ..< grid.rows {
            for c in 0 ..< grid.columns {
                tiles.append(TileInput(rgb: canvas.cropped(x: c * s, y: r * s, width: s, height: s),
                                       mask: Self.binary(maskCanvas.cropped(x: c * s, y: r * s, width: s, height: s))))
            }
        }
        return (grid, tiles)
    }

    /// Video mode: one squashed tile of a frame and of its union mask.
    public func singleTile(image: ImageU8, mask: [UInt8]) -> TileInput {
        precondition(image.channels == 3 && mask.count == image.width * image.height, "singleTile: sizes")
        let maskImage = ImageU8(width: image.width, height: image.height, channels: 1, pixels: mask)
        return TileInput(rgb: image.resizedBicubicAntialias(width: tileSize, height: tileSize),
                         mask: Self.binary(maskImage.resizedNearest(width: tileSize, height: tileSize)))
    }

    /// A resized mask's bytes as 0/1. Nearest resizing only picks source pixels, so binarising
    /// after it equals binarising the full-size mask first, without copying the full-size mask
    /// (`mask` is shared with the caller as it is).
    static func binary(_ tile: ImageU8) -> [UInt8] {
        var bytes = tile.pixels
        for i in bytes.indices where bytes[i] > 1 { bytes[i] = 1 }
        return bytes
    }

    /// Writes the normalised planar pixels `[3, size, size]` of a tile to `out`.
    public func normalize(_ tile: ImageU8, into out: UnsafeMutablePointer<Float>) {
        let n = tile.width * tile.height
        let m0 = mean[0], m1 = mean[1], m2 = mean[2], s0 = std[0], s1 = std[1], s2 = std[2]
        tile.pixels.withUnsafeBufferPointer { px in
            for i in 0 ..< n {
                out[i] = (Float(px[3 * i]) - m0) / s0
                out[n + i] = (Float(px[3 * i + 1]) - m1) / s1
                out[2 * n + i] = (Float(px[3 * i + 2]) - m2) / s2
            }
        }
    }
}

/// A region's box normalised to the image: `(x_min / W, y_min / H, x_max / W, y_max / H)` with
/// INCLUSIVE max pixel indices (GAR-SPEC §6.5), in Double as Python computes it.
public struct NormalizedBox: Sendable, Hashable, Codable {
    public var x1: Double, y1: Double, x2: Double, y2: Double

    public init(x1: Double, y1: Double, x2: Double, y2: Double) {
        self.x1 = x1; self.y1 = y1; self.x2 = x2; self.y2 = y2
    }

    /// The box of the nonzero pixels of a `width × height` mask; nil when the mask is empty.
    public static func of(mask: [UInt8], width: Int, height: Int) -> NormalizedBox? {
        var xMin = Int.max, yMin = Int.max, xMax = -1, yMax = -1
        mask.withUnsafeBufferPointer { m in
            for y in 0 ..< height {
                let row = y * width
                var first = -1, last = -1
                for x in 0 ..< width where m[row + x] != 0 {
                    if first < 0 { first = x }
                    last = x
                }
                guard first >= 0 else { continue }
                yMin = min(yMin, y); yMax = y
                xMin = min(xMin, first); xMax = max(xMax, last)
            }
        }
        guard xMax >= 0 else { return nil }
        return NormalizedBox(x1: Double(xMin) / Double(width), y1: Double(yMin) / Double(height),
                             x2: Double(xMax) / Double(width), y2: Double(yMax) / Double(height))
    }
}
