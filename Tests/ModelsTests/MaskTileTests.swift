// The image processor reads the caller's mask bytes in place and binarises only the resized
// tiles: the tiles must equal those of the former path (binarise the full-size mask, then resize).
import Checkpoints
import Foundation
@testable import Models
import Tensors
import Testing

@Suite struct MaskTileTests {
    /// A processor with 8-pixel tiles (the grid search and resizes are the real ones).
    static func processor() throws -> ImageProcessor {
        let json = #"{"tile_size": 8, "max_num_tiles": 4}"#
        return ImageProcessor(try JSONDecoder().decode(PreprocessorConfig.self, from: Data(json.utf8)).resolved())
    }

    /// A 21×13 image and a mask with labels 0, 1, 7 and 255 (nonzero = inside).
    static let width = 21, height = 13
    static let image = ImageU8(width: width, height: height, channels: 3,
                               pixels: (0 ..< width * height * 3).map { UInt8(truncatingIfNeeded: $0 &* 37) })
    static let mask: [UInt8] = (0 ..< width * height).map { i in [0, 1, 0, 7, 255, 0][i % 6] }

    /// The former path: a binary copy of the whole mask, then the nearest resize.
    static func binaryFirst(width w: Int, height h: Int) -> ImageU8 {
        ImageU8(width: width, height: height, channels: 1, pixels: mask.map { $0 != 0 ? 1 : 0 }).resizedNearest(width: w, height: h)
    }

    @Test func imageModeMaskTilesEqualBinarisingFirst() throws {
        let p = try Self.processor()
        let (grid, tiles) = p.thumbAndTiles(image: Self.image, mask: Self.mask)
        #expect(grid.columns * grid.rows > 1)
        #expect(tiles[0].mask == Self.binaryFirst(width: 8, height: 8).pixels)
        let canvas = Self.binaryFirst(width: grid.columns * 8, height: grid.rows * 8)
        for r in 0 ..< grid.rows {
            for c in 0 ..< grid.columns {
                #expect(tiles[1 + r * grid.columns + c].mask == canvas.cropped(x: c * 8, y: r * 8, width: 8, height: 8).pixels)
            }
        }
        #expect(tiles.allSatisfy { $0.mask.allSatisfy { $0 <= 1 } && $0.mask.contains(1) })
    }

    @Test func videoModeMaskTileEqualsBinarisingFirst() throws {
        let tile = try Self.processor().singleTile(image: Self.image, mask: Self.mask)
        #expect(tile.mask == Self.binaryFirst(width: 8, height: 8).pixels)
        #expect(tile.mask.contains(1) && tile.mask.allSatisfy { $0 <= 1 })
    }
}
