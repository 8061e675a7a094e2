// Preprocessing against the reference processor: tile grids (unit goldens for M = 2…36), the full
// uint8 thumbnail and canvas of case a, strided pixels and exact channel sums of every case's
// tiles, binary mask tiles, the id map of case d, boxes.
import Foundation
@testable import Models
import Tensors
import Testing

@Suite struct PreprocessingTests {
    @Test func tileGridsMatchTheReferenceProcessor() throws {
        let golden = try unitGoldenJSON("tile_grids.json") as! [String: Any]
        let cases = golden["cases"] as! [[String: Any]]
        #expect(cases.count >= 150)
        var wrong: [String] = []
        for c in cases {
            let w = c["width"] as! Int, h = c["height"] as! Int, m = c["max_num_tiles"] as! Int
            let g = TileGrid.choose(width: w, height: h, maxTiles: m, tileSize: 448)
            let want = TileGrid(columns: c["ncw"] as! Int, rows: c["nch"] as! Int, fallback: c["fallback"] as! Bool)
            if g != want { wrong.append("\(w)×\(h) M=\(m): \(g) fallback \(g.fallback), want \(want) fallback \(want.fallback)") }
        }
        #expect(wrong.isEmpty, "\(wrong.count) grids differ: \(wrong.prefix(5))")
        let order = (golden["candidate_order_max16"] as! [[Int]]).map { [$0[0], $0[1]] }
        #expect(TileGrid.candidateOrder(maxTiles: 16).map { [$0.w, $0.h] } == order)
    }

    /// Case a stores the full uint8 thumbnail and canvas: the bicubic antialias resize must be
    /// bit-exact with torchvision.
    @Test func thumbnailAndCanvasAreBitExact() throws {
        let g = try GoldenCase("a_describe_rgb")
        let model = try Fixtures.model(g.checkpoint)
        let image = try Fixtures.image(g.inputs["image"] as! String)
        let mask = try Fixtures.mask((g.inputs["masks"] as! [String])[0])
        let (grid, tiles) = model.imageProcessor.thumbAndTiles(image: image, mask: mask.pixels)
        let thumb = try g.bytes("pixel_u8.thumbnail")
        let ours = chw(tiles[0].rgb)
        let differing = zip(ours, thumb).filter { $0 != $1 }.count
        let worst = zip(ours, thumb).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(differing == 0, "thumbnail: \(differing) of \(thumb.count) values differ (max \(worst))")
        // Canvas [3, nch·448, ncw·448] → the grid tiles, row-major.
        let canvas = try g.bytes("pixel_u8.canvas")
        let W = grid.columns * 448, H = grid.rows * 448
        var canvasDiff = 0
        for r in 0 ..< grid.rows {
            for c in 0 ..< grid.columns {
                let tile = chw(tiles[1 + r * grid.columns + c].rgb)
                for ch in 0 ..< 3 {
                    for y in 0 ..< 448 {
                        for x in 0 ..< 448 where tile[(ch * 448 + y) * 448 + x] != canvas[(ch * H + r * 448 + y) * W + c * 448 + x] {
                            canvasDiff += 1
                        }
                    }
                }
            }
        }
        #expect(canvasDiff == 0, "canvas: \(canvasDiff) of \(canvas.count) values differ")
    }

    /// Every case: exact per-tile channel sums and the strided pixel subsample.
    @Test(arguments: GoldenParityTests.cases) func tilePixels(_ caseName: String) throws {
        let g = try GoldenCase(caseName)
        let model = try Fixtures.model(g.checkpoint)
        let tiles = try PreprocessingTests.tiles(g, model)
        let sums = try g.ints("pixel_u8.tile_channel_sums")
        let sub = try g.bytes("pixel_u8.sub")
        for (t, tile) in tiles.enumerated() {
            let p = chw(tile.rgb)
            for c in 0 ..< 3 {
                let s = p[(c * 448 * 448) ..< ((c + 1) * 448 * 448)].reduce(0) { $0 + Int($1) }
                #expect(s == sums[t * 3 + c], "tile \(t) channel \(c): sum \(s) vs \(sums[t * 3 + c])")
                var diff = 0
                for y in 0 ..< 28 { for x in 0 ..< 28 where p[(c * 448 + 16 * y) * 448 + 16 * x] != sub[((t * 3 + c) * 28 + y) * 28 + x] { diff += 1 } }
                #expect(diff == 0, "tile \(t) channel \(c): \(diff) of 784 strided pixels differ")
            }
        }
    }

    /// The binary union mask equals `id_map != <NO_Prompt>` of the reference's id map (case d,
    /// overlapping masks, first region wins).
    @Test func unionMaskEqualsTheIdMapTest() throws {
        let g = try GoldenCase("d_ask_multi_region")
        let idMap = try SafeTensorsRead.bytes(Fixtures.path("goldens/d_ask_multi_region/id_map.safetensors"), "id_map")
        let masks = try (g.inputs["masks"] as! [String]).map(Fixtures.mask)
        var firstWins = [UInt8](repeating: 5, count: idMap.count)
        for (k, m) in masks.enumerated() {
            for i in firstWins.indices where firstWins[i] == 5 && m.pixels[i] != 0 { firstWins[i] = UInt8(k) }
        }
        #expect(firstWins == idMap, "the id map is region k where mask k is the first to cover a pixel, else 5")
    }

    static func tiles(_ g: GoldenCase, _ model: GARModel) throws -> [TileInput] {
        let session = GARSession(model: model)
        switch g.inputs["kind"] as! String {
        case "describe":
            return try session.prepareDescribe(image: Fixtures.image(g.inputs["image"] as! String),
                                               mask: Fixtures.mask((g.inputs["masks"] as! [String])[0])).tiles
        case "ask":
            return try session.prepareAsk(image: Fixtures.image(g.inputs["image"] as! String),
                                          masks: (g.inputs["masks"] as! [String]).map(Fixtures.mask),
                                          question: g.inputs["question"] as! String).tiles
        default:
            let frames = try (g.inputs["frames"] as! [String]).map(Fixtures.image)
            return frames.map { model.imageProcessor.singleTile(image: $0, mask: [UInt8](repeating: 0, count: $0.width * $0.height)) }
        }
    }
}

import Checkpoints

enum SafeTensorsRead {
    static func bytes(_ path: String, _ key: String) throws -> [UInt8] {
        try SafeTensorsFile(path: path).view(key).uint8Values()
    }
}
