import Foundation
import Testing
@testable import Tracking

/// COCO RLE against pycocotools (tools/tracking/make_rle_fixtures.py → rle_vectors.json).
@Suite struct RLETests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String, height: Int, width: Int, bitsHex: String, counts: String, runs: [Int]
        let area: Int, bbox: [Double]
        var description: String { name }

        var mask: Mask {
            let hex = Array(bitsHex.utf8)
            var bytes: [UInt8] = []
            var i = 0
            while i + 1 < hex.count {
                bytes.append(UInt8(String(decoding: hex[i...(i + 1)], as: UTF8.self), radix: 16)!)
                i += 2
            }
            var bits = [UInt8](repeating: 0, count: width * height)
            for i in 0..<bits.count { bits[i] = (bytes[i / 8] >> (7 - UInt8(i % 8))) & 1 }
            return Mask(width: width, height: height, bits: bits)
        }
    }

    static let cases: [Case] = {
        guard let doc = try? Fixtures.json("rle_vectors.json"), let list = doc["cases"] as? [[String: Any]] else { return [] }
        return list.map { c in
            Case(name: c["name"] as! String, height: c["height"] as! Int, width: c["width"] as! Int,
                 bitsHex: c["bits_hex"] as! String, counts: c["counts"] as! String, runs: c["runs"] as! [Int],
                 area: c["area"] as! Int, bbox: c["bbox"] as! [Double])
        }
    }()

    @Test func fixtureLoaded() { #expect(Self.cases.count >= 16) }

    @Test(arguments: cases) func encodeMatchesPycocotools(_ c: Case) throws {
        let rle = RLE(c.mask)
        #expect(rle.counts == c.runs)
        #expect(rle.compressedString == c.counts)
        #expect(rle.area == c.area)
        #expect(c.mask.area == c.area)
        let box = c.mask.boundingBox
        if c.area == 0 { #expect(box == nil) } else {
            #expect([Double(box!.x), Double(box!.y), Double(box!.width), Double(box!.height)] == c.bbox)
        }
    }

    @Test(arguments: cases) func decodeRoundTrips(_ c: Case) throws {
        let parsed = try RLE(height: c.height, width: c.width, compressed: c.counts)
        #expect(parsed.counts == c.runs)
        #expect(parsed.mask() == c.mask)
        let json = "{\"size\": [\(c.height), \(c.width)], \"counts\": \(c.runs)}"
        let fromList = try JSONDecoder().decode(RLE.self, from: Data(json.utf8))
        #expect(fromList.mask() == c.mask)
        let reencoded = try JSONEncoder().encode(parsed)
        let again = try JSONDecoder().decode(RLE.self, from: reencoded)
        #expect(again == parsed)
    }

    @Test func badInputsThrow() {
        #expect(throws: TrackingError.self) { try RLE(height: 2, width: 2, counts: [1, 2]) }
        #expect(throws: TrackingError.self) { try RLE(height: 2, width: 2, compressed: "0~") }
        #expect(throws: TrackingError.self) { try RLE(height: 2, width: 2, compressed: "3") }
        // Hostile sizes and runs: overflow must be an error, not a trap (QA reproducer).
        #expect(throws: TrackingError.self) { try RLE(height: 1 << 40, width: 1 << 40, counts: [0]) }
        #expect(throws: TrackingError.self) { try RLE(height: 2, width: 2, counts: [Int.max, Int.max]) }
        let runaway = String(repeating: "ooooooooooo?", count: 40)
        #expect(throws: TrackingError.self) { try RLE(height: 120, width: 160, compressed: runaway) }
    }
}

@Suite struct MaskTests {
    @Test func iouAndBox() {
        let a = Mask(width: 10, height: 8) { x, y in x >= 2 && x < 6 && y >= 1 && y < 5 }   // 16 px
        let b = Mask(width: 10, height: 8) { x, y in x >= 4 && x < 8 && y >= 1 && y < 5 }   // 16 px, 8 shared
        #expect(a.area == 16)
        #expect(abs(a.iou(b) - 8.0 / 24.0) < 1e-12)
        #expect(a.boundingBox == PixelBox(x: 2, y: 1, width: 4, height: 4))
        #expect(Mask(width: 3, height: 3).iou(Mask(width: 3, height: 3)) == 1)
        #expect(a.union(b).area == 24 && a.intersection(b).area == 8 && a.subtracting(b).area == 8)
    }

    @Test func labelMapKeepsObjectsDisjoint() {
        let a = Mask(width: 6, height: 4) { x, _ in x < 4 }
        let b = Mask(width: 6, height: 4) { x, _ in x >= 2 }
        let map = LabelMap(width: 6, height: 4, masks: [a, nil, b])
        #expect(map.mask(1).area == 16)
        #expect(map.mask(2).area == 0)
        #expect(map.mask(3).area == 8)              // overlap went to object 1
        #expect(map.mask(1).intersection(map.mask(3)).area == 0)
        #expect(map.presentLabels == [1, 3])
    }

    @Test func resizeNearest() {
        let a = Mask(width: 4, height: 2) { x, _ in x >= 2 }
        let up = a.resized(width: 8, height: 4)
        #expect(up.area == 16 && up[4, 0] && !up[3, 3])
        #expect(up.resized(width: 4, height: 2) == a)
    }
}
