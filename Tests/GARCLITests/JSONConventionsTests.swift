// Issue 10: every JSON output of gar, through the binary — it parses with the strict parser
// (JSONCore: no duplicate keys, nothing after the value), carries `schema_version`, and no key
// has an uppercase letter (the VideoRefer predictions' official `Question`/`Answer` excepted).
// A damaged video's problems reach `warnings`, not only stderr.
import Foundation
import JSONCore
import Testing
import Video

@Suite(.serialized) struct JSONConventionsTests {
    static let model = "Tests/Fixtures/gar-tiny"
    static let truncated = "samples/bad/truncated.mp4"   // the first 40 % of a 300-frame clip

    /// Strictly parsed, with every key checked; returns the document.
    @discardableResult
    static func check(_ text: String, version: Int? = nil, allowedUppercase: Set<String> = [], _ what: String,
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
        let doc: JSONValue
        do { doc = try StrictJSON.parse(Array(text.utf8)) } catch {
            Issue.record("\(what): not strict JSON (\(error)): \(text.prefix(300))", sourceLocation: sourceLocation)
            throw error
        }
        guard case let .integer(v)? = doc["schema_version"] else {
            Issue.record("\(what): no integer schema_version", sourceLocation: sourceLocation)
            return doc
        }
        if let version { #expect(v == Int64(version), "\(what): schema_version", sourceLocation: sourceLocation) }
        var bad: [String] = []
        func walk(_ j: JSONValue) {
            switch j {
            case let .object(members):
                for (k, x) in members {
                    if k.contains(where: \.isUppercase) && !allowedUppercase.contains(k) { bad.append(k) }
                    walk(x)
                }
            case let .array(items): items.forEach(walk)
            default: break
            }
        }
        walk(doc)
        #expect(bad.isEmpty, "\(what): keys not in snake_case: \(bad)", sourceLocation: sourceLocation)
        return doc
    }

    static func strings(_ v: JSONValue?) -> [String]? {
        guard case let .array(items)? = v else { return nil }
        return items.compactMap { if case let .string(s) = $0 { return s } else { return nil } }
    }

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    @Test func probe() throws {
        let r = try E2E.run(["probe", "samples/clips/ball.mp4", "--count-frames"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try Self.check(r.stdout, version: 2, "probe")
        #expect(j["frame_count"] == .integer(100) && j["frame_count_header"] == .integer(100))
        #expect(Self.strings(j["warnings"]) == [], "a clean clip has no warning")
        // The truncated clip: 117 frames decodable of the 300 the header lists, in the JSON.
        let t = try E2E.run(["probe", Self.truncated, "--count-frames"])
        #expect(t.status == 0, "\(t.stderr)")
        let w = try #require(Self.strings(try Self.check(t.stdout, "probe truncated")["warnings"]))
        #expect(w.count == 1 && w[0].contains("117 of the 300 frames"), "\(w)")
        // --decode compares the decodable frames with the count (corrupt.mp4: 277 of 300).
        let c = try E2E.run(["probe", "samples/bad/corrupt.mp4", "--count-frames", "--decode"])
        let cw = try #require(Self.strings(try Self.check(c.stdout, "probe corrupt")["warnings"]))
        #expect(cw.contains { $0.contains("277 of the 300 frames") }, "\(cw)")
    }

    /// An output folder whose name has a quote and a backslash: the printed JSON is still valid
    /// and gives the path back exactly.
    @Test func framesEscapesPathsAndReportsDamage() throws {
        let dir = E2E.tempDir("json-frames")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("a \"quoted\" \\ name").path
        let r = try E2E.run(["frames", "samples/clips/ball.mp4", "--count", "2", "--out", out, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try Self.check(r.stdout, version: 2, "frames stdout")
        #expect(j["out"] == .string(out) && j["frames"] == .integer(2))
        #expect(j["manifest"] == .string(out + "/frames.json"))
        #expect(Self.strings(j["warnings"]) == [])
        try Self.check(try Self.read(out + "/frames.json"), version: 2, "frames.json")
        // The truncated clip: the damage is in both JSON documents.
        let t = dir.appendingPathComponent("t").path
        let tr = try E2E.run(["frames", Self.truncated, "--count", "2", "--out", t, "--quiet"])
        #expect(tr.status == 0, "\(tr.stderr)")
        #expect(Self.strings(try Self.check(tr.stdout, "frames truncated")["warnings"])?.first?.contains("117 of the 300") == true)
        let manifest = try Self.check(try Self.read(t + "/frames.json"), "frames.json truncated")
        #expect(Self.strings(manifest["warnings"])?.first?.contains("117 of the 300") == true)
    }

    @Test func track() throws {
        let dir = E2E.tempDir("json-track")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("t").path
        let r = try E2E.run(["track", "samples/clips/ball.mp4", "--mask", "samples/masks/ball_f0.png", "--count", "6",
                             "--out", out, "--no-overlay", "--json", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try Self.check(r.stdout, version: 4, "track --json")
        #expect(j["frames"] == .integer(6) && j["ms_per_frame"] != nil)
        guard case let .array(objects)? = j["objects"] else { Issue.record("no objects list"); return }
        #expect(objects.count == 1 && objects[0]["name"] == .string("object1") && objects[0]["lost_frames"] != nil)
        guard case let .integer(visible)? = objects[0]["visible_frames"] else { Issue.record("no visible_frames"); return }
        #expect(visible >= 1, "visible at least on its prompt frame")
        #expect(Self.strings(j["warnings"]) == [])
        let masks = try Self.check(try Self.read(out + "/masks.json"), version: 4, "masks.json")
        #expect(masks["format"] == .string("gar-masks-2"))
        // Truncated: the frames past the damage are not there, and the JSON says why.
        let t = dir.appendingPathComponent("tt").path
        let tr = try E2E.run(["track", Self.truncated, "--box", "100,80,200,160", "--count", "4", "--out", t,
                              "--no-overlay", "--json", "--quiet"])
        #expect(tr.status == 0, "\(tr.stderr)")
        #expect(Self.strings(try Self.check(tr.stdout, "track truncated")["warnings"])?.first?.contains("117 of the 300") == true)
        #expect(Self.strings(try Self.check(try Self.read(t + "/masks.json"), "masks.json truncated")["warnings"])?.isEmpty == false)
    }

    @Test func captionAskAndImageAnswers() throws {
        let c = try E2E.run(["caption", "samples/clips/ball.mp4", "--model", Self.model, "--mask", "samples/masks/ball_f0.png",
                             "--frames", "2", "--max-new-tokens", "2", "--json", "--quiet"])
        #expect(c.status == 0, "\(c.stderr)")
        let cj = try Self.check(c.stdout, version: 2, "caption --json")
        #expect(Self.strings(cj["warnings"]) == [])
        let a = try E2E.run(["ask", Self.truncated, "--model", Self.model, "--region", "box=100,80,200,160",
                             "--question", "What is <Prompt0>?", "--frames", "2", "--max-new-tokens", "2", "--json", "--quiet"])
        #expect(a.status == 0, "\(a.stderr)")
        let w = try #require(Self.strings(try Self.check(a.stdout, version: 2, "ask truncated")["warnings"]))
        #expect(w.contains { $0.contains("117 of the 300") }, "\(w)")
        let d = try E2E.run(["describe", "--model", Self.model, "--image", "Tests/Fixtures/images/a_rgb_640x320.png",
                             "--mask", "Tests/Fixtures/images/a_mask.png", "--max-new-tokens", "2", "--json"])
        #expect(d.status == 0, "\(d.stderr)")
        try Self.check(d.stdout, version: 1, "describe --json")
    }

    @Test func batchLinesSummaryAndMerge() throws {
        let dir = E2E.tempDir("json-batch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let items = dir.appendingPathComponent("items.jsonl").path
        try """
            {"id": "ok", "video": "\(E2E.root.path)/samples/clips/ball.mp4", "regions": ["mask=\(E2E.root.path)/samples/masks/ball_f0.png"]}
            {"id": "trunc", "video": "\(E2E.root.path)/\(Self.truncated)", "regions": ["box=100,80,200,160"]}

            """.write(toFile: items, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("r.jsonl").path
        let r = try E2E.run(["batch", items, "--pipeline", "pipelines/caption-tracked-object.yaml", "--model", Self.model,
                             "--set", "generation.max_new_tokens=2", "--set", "frames.count=2", "--out", out, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        try Self.check(r.stdout, version: 1, "batch summary")
        let lines = try Self.read(out).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        for l in lines {
            let j = try Self.check(l, version: 2, "batch line")
            #expect(j["status"] == .string("ok"), "\(l.prefix(300))")
            if j["id"] == .string("trunc") {
                #expect(Self.strings(j["result"]?["warnings"])?.contains { $0.contains("117 of the 300") } == true)
            }
        }
        let merged = dir.appendingPathComponent("a \"b\".jsonl").path
        let m = try E2E.run(["batch", "merge", "--out", merged, out])
        #expect(m.status == 0, "\(m.stderr)")
        let mj = try Self.check(m.stdout, version: 1, "batch merge")
        #expect(mj["out"] == .string(merged) && mj["ok"] == .integer(2))
    }

    @Test func benchVideoReferPredictionsAndScores() throws {
        let dir = E2E.tempDir("json-vr")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("pred.jsonl").path
        let r = try E2E.run(["bench", "videorefer", "--questions", "Tests/Fixtures/videorefer/questions.json",
                             "--videos", "Tests/Fixtures/videorefer/videos", "--model", Self.model, "--out", out,
                             "--limit", "1", "--set", "generation.max_new_tokens=2", "--json", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        try Self.check(r.stdout, version: 1, "bench videorefer --json")
        for l in try Self.read(out).split(separator: "\n") {
            try Self.check(String(l), version: 2, allowedUppercase: ["Question", "Answer"], "videorefer prediction")
        }
    }

    /// A DAVIS-layout dataset from the sample frame folder: one sequence, a static box as the
    /// "ground truth" of one object (the scores do not matter here, only the JSON).
    @Test func evalTrack() throws {
        let dir = E2E.tempDir("json-eval")
        defer { try? FileManager.default.removeItem(at: dir) }
        let img = dir.appendingPathComponent("JPEGImages/480p/seq"), ann = dir.appendingPathComponent("Annotations/480p/seq")
        let fm = FileManager.default
        try fm.createDirectory(at: img, withIntermediateDirectories: true)
        try fm.createDirectory(at: ann, withIntermediateDirectories: true)
        let source = E2E.root.appendingPathComponent("samples/frames/png_seq")
        for name in try fm.contentsOfDirectory(atPath: source.path).filter({ $0.hasSuffix(".png") }).prefix(4) {
            let frame = try ImageIO.readRGB(source.appendingPathComponent(name).path)
            try fm.copyItem(at: source.appendingPathComponent(name), to: img.appendingPathComponent(name))
            var labels = GrayImage(width: frame.width, height: frame.height)
            for y in 30 ..< 80 { for x in 40 ..< 100 { labels.pixels[y * frame.width + x] = 1 } }
            try ImageIO.writePalettePNG(labels, palette: [(0, 0, 0), (128, 0, 0)], to: ann.appendingPathComponent(name).path)
        }
        let e = try E2E.run(["eval-track", dir.path, "--json", "--quiet"])
        #expect(e.status == 0, "\(e.stderr)")
        try Self.check(e.stdout, version: 2, "eval-track --json")
        let p = try E2E.run(["eval-track", dir.path, "--prompts", "--json", "--quiet"])
        #expect(p.status == 0, "\(p.stderr)")
        try Self.check(p.stdout, version: 2, "eval-track --prompts --json")
    }

    @Test func toolsAndBenchmarks() throws {
        let t = try E2E.run(["tokenize", "--model", Self.model, "--text", "a \"b\" \\ c", "--json"])
        #expect(t.status == 0, "\(t.stderr)")
        try Self.check(t.stdout, version: 1, "tokenize --json")
        let i = try E2E.run(["inspect", Self.model, "--json"])
        #expect(i.status == 0, "\(i.stderr)")
        try Self.check(i.stdout, version: 2, "inspect --json")
        let b = try E2E.run(["bench", "track", "--width", "160", "--height", "96", "--frames", "6", "--reps", "1", "--json"])
        #expect(b.status == 0, "\(b.stderr)")
        try Self.check(b.stdout, version: 2, "bench track --json")
        let dec = try E2E.run(["bench", "decode", "samples/clips/h264.mkv", "--reps", "1", "--samples", "2", "--threads", "1", "--json"])
        #expect(dec.status == 0, "\(dec.stderr)")
        try Self.check(dec.stdout, version: 1, "bench decode --json")
        let m = try E2E.run(["bench", "model", "--model", Self.model, "--tiles", "1", "--prefill-len", "8", "--decode-steps", "1", "--json"])
        #expect(m.status == 0, "\(m.stderr)")
        try Self.check(m.stdout, version: 2, "bench model --json")
    }
}
