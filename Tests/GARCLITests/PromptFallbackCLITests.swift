// A box the colour segmenter cannot separate (inside a flat colour bar of the sample frames)
// used to stop `gar track` / `gar caption` with "the segmenter found no object"; now the box
// itself is the mask and `warnings` says so (issue 13 item 5).
import Foundation
import Testing

@Suite struct PromptFallbackCLITests {
    static let frames = "samples/frames/png_seq"
    /// Inside the flat red bar on the left of every frame: nothing to separate.
    static let box = "3,30,15,100"
    static let warning = "on frame 0: the segmenter found no object in the prompted box; the box itself is used as the mask"

    @Test func trackUsesTheBoxAndWarns() throws {
        let dir = E2E.tempDir("fallback-track")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try E2E.run(["track", Self.frames, "--box", Self.box, "--out", dir.path, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let expected = "object 'object1' \(Self.warning)"
        #expect((try r.json()["warnings"] as? [String]) == [expected])
        #expect(r.stderr.contains("warning: \(Self.frames): \(expected)\n"), "\(r.stderr)")
        let masks = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("masks.json"))) as? [String: Any])
        #expect(masks["warnings"] as? [String] == [expected])
        let first = try #require(((masks["frames"] as? [[String: Any]])?.first?["objects"] as? [[String: Any]])?.first)
        #expect(first["visible"] as? Bool == true)
        #expect(first["bbox"] as? [Int] == [3, 30, 13, 71], "the mask on the prompted frame is the box")
    }

    @Test func captionUsesTheBoxAndWarns() throws {
        let args = ["caption", Self.frames, "--model", "Tests/Fixtures/gar-tiny", "--box", Self.box, "--frames", "3",
                    "--max-new-tokens", "2", "--json"]
        let expected = "object '<Prompt0>' \(Self.warning)"
        let r = try E2E.run(args)
        #expect(r.status == 0, "\(r.stderr)")
        let j = try r.json()
        #expect(j["warnings"] as? [String] == [expected])
        let region = try #require((j["regions"] as? [[String: Any]])?.first?["frames"] as? [[String: Any]])
        #expect(region.first?["bbox"] as? [Int] == [3, 30, 13, 71])
        #expect(r.stderr.contains("warning: \(expected)\n"), "\(r.stderr)")
        // --quiet: the warning stays in the JSON, stderr is silent.
        let q = try E2E.run(args + ["--quiet"])
        #expect(q.status == 0 && q.stderr.isEmpty, "\(q.stderr)")
        #expect(try q.json()["warnings"] as? [String] == [expected])
    }

    /// A batch item with such a box is "ok" (it used to be an error line), the warning in its record.
    @Test func batchItemUsesTheBoxAndWarns() throws {
        let dir = E2E.tempDir("fallback-batch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let list = dir.appendingPathComponent("items.jsonl")
        let item = ["id": "flat", "video": E2E.root.appendingPathComponent(Self.frames).path, "regions": ["box=\(Self.box)"]] as [String: Any]
        try JSONSerialization.data(withJSONObject: item).write(to: list)
        let out = dir.appendingPathComponent("results.jsonl")
        let r = try E2E.run(["batch", list.path, "--pipeline", "pipelines/temporal-qa.yaml", "--model", "Tests/Fixtures/gar-tiny",
                             "--out", out.path, "--set", "generation.max_new_tokens=2", "--set", "frames.count=2"])
        #expect(r.status == 0, "\(r.stderr)")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as? [String: Any])
        let expected = "object '<Prompt0>' \(Self.warning)"
        #expect(record["status"] as? String == "ok", "\(record)")
        #expect((record["result"] as? [String: Any])?["warnings"] as? [String] == [expected])
        #expect(r.stderr.contains("warning: flat: \(expected)\n"), "\(r.stderr)")
    }
}
