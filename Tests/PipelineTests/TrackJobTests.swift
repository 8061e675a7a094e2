import TestSupport
import Foundation
import Testing
@testable import Pipeline
import Tracking
import Video

/// `gar track` and `gar eval-track` jobs on small synthetic data written to a temp folder.
@Suite(.serialized) struct TrackJobTests {
    static func tempDir(_ name: String) -> URL {
        TestTemp.directory("gar-track-tests-\(name)")
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
        #expect(s.frames == 30 && s.objects.map(\.name) == ["ellipse", "box"])
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
        // An --out that is a file is refused before any work: the input is not even opened.
        let file = root.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        var o = TrackJobOptions(input: root.appendingPathComponent("no-such-video.mp4").path,
                                objects: try TrackArguments.parse(["--box", "1,1,20,20"]), out: file)
        o.quiet = true
        let message: String
        do { _ = try TrackJob.run(o); message = "no error" } catch { message = "\(error)" }
        #expect(message.contains("a-file") && message.contains("not a directory"), "\(message)")
    }

    /// A one-sequence DAVIS-layout dataset ("syn", 160×96, two objects) from the synthetic clip:
    /// JPEGImages/480p/syn/NNNNN.png and palette annotations. Returns its root and the clip.
    static func writeDavisLayout(_ name: String, frames n: Int) throws -> (URL, SyntheticClip) {
        let root = tempDir(name)
        let c = SyntheticClip.standard(width: 160, height: 96, count: n)
        let img = root.appendingPathComponent("JPEGImages/480p/syn"), ann = root.appendingPathComponent("Annotations/480p/syn")
        try FileManager.default.createDirectory(at: img, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: ann, withIntermediateDirectories: true)
        for t in 0..<n {
            try ImageIO.writePNG(c.frames[t], to: img.appendingPathComponent(String(format: "%05d.png", t)).path)
            let lm = LabelMap(width: 160, height: 96, masks: [c.masks[0][t], c.masks[1][t]])
            try ImageIO.writePalettePNG(GrayImage(width: 160, height: 96, pixels: lm.labels), palette: ImageIO.davisPalette,
                                        to: ann.appendingPathComponent(String(format: "%05d.png", t)).path)
        }
        return (root, c)
    }

    @Test func evalTrackOnDavisLayout() throws {
        let (root, c) = try Self.writeDavisLayout("davis", frames: 30)
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

    /// `gar eval-track --prompts` on a 5-frame synthetic DAVIS-layout sequence: every prompt kind
    /// on the first, middle and last frame for both objects, scored against the exact truth.
    @Test func promptEvalOnDavisLayout() throws {
        let (root, c) = try Self.writeDavisLayout("prompts", frames: 5)
        var o = PromptEvalOptions(dataset: root.path); o.quiet = true
        let r = try PromptEvalJob.run(o)
        // 3 frames (0, 2, 4) × 2 objects × 3 prompt kinds.
        #expect(r.rows.count == 18)
        #expect(Set(r.rows.map(\.frame)) == [0, 2, 4] && Set(r.rows.map(\.object)) == [1, 2])
        #expect(r.summaries.map(\.kind) == PromptEvalJob.kinds && r.summaries.allSatisfy { $0.count == 6 })
        // Each row's IoU is the segmenter's own result scored against the truth (recomputed here).
        let row = try #require(r.rows.first { $0.kind == "box" && $0.frame == 2 && $0.object == 2 })
        let truth = c.masks[1][2]
        let direct = try PromptSegmenter.mask(for: .box(truth.boundingBox!), on: c.frames[2])
        #expect(abs(row.iou - direct.iou(truth)) < 1e-12)
        // Distinctly coloured objects: the box prompts recover them well (the tracker test's bar),
        // better than the box itself as a mask (the ellipse fills ~π/4 of its box).
        for kind in ["box", "box+click"] {
            let q = try #require(r.summaries.first { $0.kind == kind })
            #expect(q.meanIoU > 0.9, "\(kind): \(q.meanIoU)")
            #expect(q.meanIoU > q.meanBoxIoU! + 0.05)
        }
        #expect(r.rows.allSatisfy { ($0.boxIoU == nil) == ($0.kind == "click") && $0.ms >= 0 && $0.cpuMs >= 0 })
        #expect(r.table.contains("| box+click | 6 |"))
        // The naive GrabCut twin: the same prompts, the same accuracy (the fast one differs on at
        // most a few boundary pixels: mean IoU within 0.01).
        o.naiveGrabCut = true
        let naive = try PromptEvalJob.run(o)
        #expect(naive.naiveGrabCut && naive.rows.count == 18)
        for (a, b) in zip(r.summaries, naive.summaries) { #expect(abs(a.meanIoU - b.meanIoU) < 0.01, "\(a.kind)") }
        o.sequences = ["nope"]
        #expect(throws: PipelineError.self) { try PromptEvalJob.run(o) }
    }

    /// The click prompt's position: the inside pixel farthest from the background.
    @Test func poleOfInaccessibility() {
        let square = Mask(width: 40, height: 30) { x, y in x >= 5 && x <= 15 && y >= 10 && y <= 20 }   // 11×11
        #expect(PromptEvalJob.poleOfInaccessibility(square) == PromptPoint(x: 10, y: 15))
        // An L shape on the image's left border (12 px wide arm, 8 px high arm): the thickest
        // place is where the arms meet, (6, 29): √40 from the inner corner (12, 27), farther
        // from the bottom and the image border (7). Not the bounding box's centre (outside it).
        let l = Mask(width: 40, height: 40) { x, y in (x < 12 && y < 36) || (y >= 28 && y < 36 && x < 36) }
        #expect(PromptEvalJob.poleOfInaccessibility(l) == PromptPoint(x: 6, y: 29))
        #expect(PromptEvalJob.poleOfInaccessibility(Mask(width: 4, height: 4)) == nil)
    }
}
