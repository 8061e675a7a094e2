import Foundation
import Testing
@testable import Pipeline
import Tracking
import Video

/// `gar track` and `gar eval-track` jobs on small synthetic data written to a temp folder.
@Suite(.serialized) struct TrackJobTests {
    static func tempDir(_ name: String) -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("gar-track-tests-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: u)
        try! FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }

    /// A frames folder of the synthetic clip (PNG) and the first ground-truth masks.
    static func writeClip(_ dir: URL, count: Int = 30) throws -> SyntheticClip {
        let c = SyntheticClip.standard(width: 160, height: 96, count: count)
        for (t, f) in c.frames.enumerated() {
            try ImageIO.writePNG(f, to: dir.appendingPathComponent(String(format: "f%03d.png", t)).path)
        }
        return c
    }

    @Test func trackWritesEveryOutput() throws {
        let root = Self.tempDir("track")
        let frames = root.appendingPathComponent("frames")
        try FileManager.default.createDirectory(at: frames, withIntermediateDirectories: true)
        let c = try Self.writeClip(frames)
        let maskPath = root.appendingPathComponent("m0.png").path
        try ImageIO.writePNG(GrayImage(width: c.width, height: c.height, pixels: c.masks[0][0].bits.map { $0 * 255 }), to: maskPath)
        let b = c.masks[1][0].boundingBox!
        let objects = try TrackArguments.parse(["--object", "ellipse", "--mask", maskPath,
                                                "--object", "box", "--box", "\(b.x),\(b.y),\(b.x2),\(b.y2)"])
        var o = TrackJobOptions(input: frames.path, objects: objects, out: root.appendingPathComponent("out"))
        o.quiet = true
        let s = try TrackJob.run(o)
        #expect(s.frames == 30 && s.objects == ["ellipse", "box"])
        let out = root.appendingPathComponent("out")
        for f in ["masks.json", "overlay.mp4", "contact_sheet.png", "masks/00000.png", "masks/00029.png"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), "missing \(f)")
        }
        // masks.json: COCO RLE per object per frame, decodable, matching the PNG label maps.
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("masks.json"))) as! [String: Any]
        let fr = doc["frames"] as! [[String: Any]]
        #expect(fr.count == 30)
        let objs = fr[5]["objects"] as! [[String: Any]]
        let rle = objs[0]["rle"] as! [String: Any]
        let m = try RLE(height: c.height, width: c.width, compressed: rle["counts"] as! String).mask()
        let png = try ImageIO.readLabels(out.appendingPathComponent("masks/00005.png").path)
        #expect(m == LabelMap(width: c.width, height: c.height, labels: png.pixels).mask(1))
        #expect(m.iou(c.masks[0][5]) > 0.8)
    }

    @Test func trackBadInputsAreClearErrors() throws {
        let root = Self.tempDir("bad")
        let frames = root.appendingPathComponent("frames")
        try FileManager.default.createDirectory(at: frames, withIntermediateDirectories: true)
        _ = try Self.writeClip(frames, count: 4)
        let small = root.appendingPathComponent("small.png").path
        try ImageIO.writePNG(GrayImage(width: 80, height: 48, pixels: [UInt8](repeating: 255, count: 80 * 48)), to: small)
        let empty = root.appendingPathComponent("empty.png").path
        try ImageIO.writePNG(GrayImage(width: 160, height: 96), to: empty)
        func err(_ args: [String]) -> String {
            do {
                var o = TrackJobOptions(input: frames.path, objects: try TrackArguments.parse(args), out: root.appendingPathComponent("o"))
                o.quiet = true
                _ = try TrackJob.run(o); return "no error"
            } catch { return "\(error)" }
        }
        #expect(err(["--mask", small]).contains("80x48") && err(["--mask", small]).contains("160x96"))
        #expect(err(["--mask", empty]).contains("empty"))
        #expect(err(["--box", "100,10,400,50"]).contains("outside the 160x96 frame"))
        #expect(err(["--frame", "9", "--box", "1,1,20,20"]).contains("past the end"))
        // Nothing was left behind by the failed runs.
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("o").path))
    }

    @Test func evalTrackOnDavisLayout() throws {
        let root = Self.tempDir("davis")
        let c = SyntheticClip.standard(width: 160, height: 96, count: 30)
        let img = root.appendingPathComponent("JPEGImages/480p/syn"), ann = root.appendingPathComponent("Annotations/480p/syn")
        try FileManager.default.createDirectory(at: img, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: ann, withIntermediateDirectories: true)
        for t in 0..<30 {
            try ImageIO.writePNG(c.frames[t], to: img.appendingPathComponent(String(format: "%05d.png", t)).path)
            let lm = LabelMap(width: 160, height: 96, masks: [c.masks[0][t], c.masks[1][t]])
            try ImageIO.writePalettePNG(GrayImage(width: 160, height: 96, pixels: lm.labels), palette: ImageIO.davisPalette,
                                        to: ann.appendingPathComponent(String(format: "%05d.png", t)).path)
        }
        var o = EvalTrackOptions(dataset: root.path); o.quiet = true
        o.baseline = "copy"
        let copy = try EvalTrackJob.run(o)
        // The copy baseline's J is computable directly.
        var j: [Double] = []
        for k in 0..<2 { for t in 1..<29 { j.append(c.masks[k][0].iou(c.masks[k][t])) } }
        #expect(abs(copy.sequences[0].J - j.reduce(0, +) / Double(j.count)) < 1e-9)
        #expect(copy.sequences[0].objects == 2)
        o.baseline = nil
        let gar = try EvalTrackJob.run(o)
        #expect(gar.meanJF > copy.meanJF + 0.2)
        #expect(gar.meanJF > 0.85)
        o.sequences = ["nope"]
        #expect(throws: PipelineError.self) { try EvalTrackJob.run(o) }
    }
}
