// Issue 10: GAR regions may overlap. Through the binary: a region nested in another (the ball and
// a smaller mask inside it) and the same region twice are tracked independently — both visible
// on their prompt frame, with their whole masks — in `gar track` (masks.json) and `gar ask` (the
// answer's regions), with the tiny model.
import Foundation
import JSONCore
import Testing
import Video

@Suite(.serialized) struct OverlapRegionsTests {
    static let clip = "samples/clips/two_objects.mp4"
    static let ball = "samples/masks/two_objects_f0_ball.png"
    static let model = "Tests/Fixtures/gar-tiny"

    /// Writes the middle third (in each direction) of the ball's first-frame mask: a region inside it.
    static func innerMask(in dir: URL) throws -> String {
        let m = try ImageIO.readLabels(E2E.root.appendingPathComponent(ball).path)
        let inside = m.pixels.indices.filter { m.pixels[$0] != 0 }
        let xs = inside.map { $0 % m.width }, ys = inside.map { $0 / m.width }
        let (x0, x1, y0, y1) = (xs.min()!, xs.max()!, ys.min()!, ys.max()!)
        var inner = GrayImage(width: m.width, height: m.height)
        for i in inside {
            let x = i % m.width, y = i / m.width
            if 3 * (x - x0) >= x1 - x0 && 3 * (x - x0) <= 2 * (x1 - x0) && 3 * (y - y0) >= y1 - y0 && 3 * (y - y0) <= 2 * (y1 - y0) {
                inner.pixels[i] = 255
            }
        }
        let path = dir.appendingPathComponent("inner.png").path
        try ImageIO.writePNG(inner, to: path)
        return path
    }

    /// masks.json's objects on the frame with `index`: (visible, rle counts) per object.
    static func objects(_ masks: JSONValue, frame index: Int) throws -> [(visible: Bool, counts: String)] {
        guard case let .array(frames)? = masks["frames"],
              let f = frames.first(where: { $0["index"] == .integer(Int64(index)) }),
              case let .array(objs)? = f["objects"] else { throw JSONParseError(offset: 0, message: "no frame \(index)") }
        return objs.map { o in
            var counts = ""
            if case let .string(s)? = o["rle"]?["counts"] { counts = s }
            return (o["visible"] == .bool(true), counts)
        }
    }

    static func track(_ args: [String], out: String) throws -> JSONValue {
        let r = try E2E.run(["track", clip] + args + ["--count", "10", "--out", out, "--no-overlay", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        return try StrictJSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: out + "/masks.json"))))
    }

    @Test func trackNestedAndDuplicateRegions() throws {
        let dir = E2E.tempDir("overlap-track")
        defer { try? FileManager.default.removeItem(at: dir) }
        let inner = try Self.innerMask(in: dir)
        let nested = try Self.track(["--mask", Self.ball, "--mask", inner], out: dir.appendingPathComponent("n").path)
        let first = try Self.objects(nested, frame: 0)
        #expect(first.count == 2 && first.allSatisfy(\.visible), "both visible on the prompt frame")
        let alone = try Self.track(["--mask", inner], out: dir.appendingPathComponent("a").path)
        #expect(first[1].counts == (try Self.objects(alone, frame: 0))[0].counts, "the inner mask is whole on its prompt frame")
        let twice = try Self.track(["--mask", Self.ball, "--mask", Self.ball], out: dir.appendingPathComponent("d").path)
        guard case let .array(frames)? = twice["frames"] else { Issue.record("no frames"); return }
        for f in frames {
            guard case let .integer(index)? = f["index"] else { continue }
            let o = try Self.objects(twice, frame: Int(index))
            #expect(o.count == 2 && o[0].visible == o[1].visible && o[0].counts == o[1].counts, "frame \(index)")
        }
        #expect(try Self.objects(twice, frame: 0).allSatisfy(\.visible))
    }

    /// Regions of the answer: per region, (visible, rle counts) on each sampled frame.
    static func regions(_ answer: [String: Any]) throws -> [[(visible: Bool, counts: String?)]] {
        let rs = try #require(answer["regions"] as? [[String: Any]])
        return try rs.map { r in
            try #require(r["frames"] as? [[String: Any]]).map { f in
                (f["visible"] as? Bool ?? false, (f["rle"] as? [String: Any])?["counts"] as? String)
            }
        }
    }

    @Test func askWithNestedAndDuplicateRegions() throws {
        let dir = E2E.tempDir("overlap-ask")
        defer { try? FileManager.default.removeItem(at: dir) }
        let inner = try Self.innerMask(in: dir)
        let base = ["ask", Self.clip, "--model", Self.model, "--frames", "2", "--max-new-tokens", "2", "--json", "--quiet"]
        let nested = try E2E.run(base + ["--region", "mask=\(Self.ball)", "--region", "mask=\(inner)",
                                         "--question", "Is <Prompt1> part of <Prompt0>?"])
        #expect(nested.status == 0, "\(nested.stderr)")
        let n = try Self.regions(try nested.json())
        #expect(n.count == 2 && n.allSatisfy { $0.first?.visible == true }, "both visible on the prompt frame 0")
        let twice = try E2E.run(base + ["--region", "mask=\(Self.ball)", "--region", "mask=\(Self.ball)",
                                        "--question", "Are <Prompt0> and <Prompt1> the same?"])
        #expect(twice.status == 0, "\(twice.stderr)")
        let d = try Self.regions(try twice.json())
        #expect(d.count == 2 && d[0].first?.visible == true)
        #expect(d.count == 2 && zip(d[0], d[1]).allSatisfy { $0.visible == $1.visible && $0.counts == $1.counts })
    }
}
