// The tracker choice through the binary (issue 13 point 3): --tracker / --sam2 on track, caption,
// ask, run and batch; the pipeline's tracker.kind / tracker.sam2_model; GAR_SAM2; the JSON fields
// (tracker, sam2_model, status); usage errors (64) and a bad checkpoint (1, naming it). These check
// the wiring with the committed tiny SAM 2.1 checkpoint (random weights), not mask quality.
import Foundation
import Testing

@Suite(.serialized) struct TrackerWiringCLITests {
    /// The SAM 2.1 checkpoint the wiring runs on (image-mode weights; the stand-in video loop uses
    /// image mode per frame).
    static let sam2 = "Tests/Fixtures/sam2video-tiny"
    static let model = "Tests/Fixtures/gar-tiny"
    static let trackArgs = ["track", "samples/clips/ball.mp4", "--mask", "samples/masks/ball_f0.png", "--count", "5", "--no-overlay", "--quiet"]

    static func json(_ path: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    /// Every object entry of masks.json: status agrees with visible / lost.
    static func checkStatus(_ masks: [String: Any]) throws -> [String] {
        var statuses: [String] = []
        for f in try #require(masks["frames"] as? [[String: Any]]) {
            for o in try #require(f["objects"] as? [[String: Any]]) {
                let status = try #require(o["status"] as? String)
                let visible = try #require(o["visible"] as? Bool), lost = try #require(o["lost"] as? Bool)
                #expect(status == (lost ? "lost" : visible ? "visible" : "not_visible"), "\(o)")
                statuses.append(status)
            }
        }
        return statuses
    }

    @Test func trackRecordsTheTrackerUsed() throws {
        let dir = E2E.tempDir("trackerwire-track")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Default: the weight-free tracker.
        var r = try E2E.run(Self.trackArgs + ["--out", dir.appendingPathComponent("flow").path, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        var j = try r.json()
        #expect(j["tracker"] as? String == "flow" && j["sam2_model"] is NSNull)
        var masks = try Self.json(dir.appendingPathComponent("flow/masks.json").path)
        #expect(masks["tracker"] as? String == "flow" && masks["sam2_model"] is NSNull)
        #expect(try Self.checkStatus(masks).first == "visible")
        // --sam2 with auto (the default kind) = SAM 2.1.
        r = try E2E.run(Self.trackArgs + ["--out", dir.appendingPathComponent("sam2").path, "--json", "--sam2", Self.sam2])
        #expect(r.status == 0, "\(r.stderr)")
        j = try r.json()
        #expect(j["tracker"] as? String == "sam2" && j["sam2_model"] as? String == Self.sam2)
        masks = try Self.json(dir.appendingPathComponent("sam2/masks.json").path)
        #expect(masks["tracker"] as? String == "sam2" && masks["sam2_model"] as? String == Self.sam2)
        let statuses = try Self.checkStatus(masks)
        #expect(statuses.count == 5 && statuses.first == "visible" && !statuses.contains("lost"), "SAM 2 never reports lost: \(statuses)")
        // GAR_SAM2 chooses SAM 2.1 under auto; --tracker flow overrides it.
        r = try E2E.run(Self.trackArgs + ["--out", dir.appendingPathComponent("env").path, "--json"], environment: ["GAR_SAM2": Self.sam2])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try r.json()["tracker"] as? String == "sam2")
        r = try E2E.run(Self.trackArgs + ["--out", dir.appendingPathComponent("env").path, "--json", "--tracker", "flow"], environment: ["GAR_SAM2": Self.sam2])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try r.json()["tracker"] as? String == "flow")
    }

    @Test func trackerMistakesAreUsageErrorsAndABadCheckpointARuntimeError() throws {
        let dir = E2E.tempDir("trackerwire-errors")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = ["--out", dir.appendingPathComponent("o").path]
        let usage: [([String], String)] = [
            (Self.trackArgs + out + ["--tracker", "sam2"], "--tracker sam2"),
            (Self.trackArgs + out + ["--tracker", "sam3"], "--tracker"),
            (Self.trackArgs + out + ["--tracker", "flow", "--sam2", Self.sam2], "--sam2"),
            (["caption", "samples/clips/ball.mp4", "--model", Self.model, "--mask", "samples/masks/ball_f0.png", "--tracker", "sam2"], "--tracker sam2"),
            (["caption", "samples/clips/ball.mp4", "--model", Self.model, "--mask", "samples/masks/ball_f0.png", "--set", "tracker.kind=sam2"], "tracker.kind"),
            (["ask", "--image", "Tests/Fixtures/images/a_rgb_640x320.png", "--mask", "Tests/Fixtures/images/a_mask.png", "--model", Self.model,
              "--question", "What is <Prompt0>?", "--tracker", "flow"], "--tracker"),
        ]
        for (args, named) in usage {
            let r = try E2E.run(args)
            #expect(r.status == 64, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.lastErrorLine.hasPrefix("error: ") && r.lastErrorLine.contains(named), "\(r.stderr)")
        }
        for bad in ["/nonexistent/sam2", Self.model] {
            for args in [Self.trackArgs + out + ["--sam2", bad],
                         ["caption", "samples/clips/ball.mp4", "--model", Self.model, "--mask", "samples/masks/ball_f0.png", "--sam2", bad]] {
                let r = try E2E.run(args)
                #expect(r.status == 1, "\(args): \(r.status) \(r.stderr)")
                #expect(r.stderr.split(separator: "\n").count == 1 && r.lastErrorLine.hasPrefix("error: \(bad): "), "\(r.stderr)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o").path), "nothing written on error")
    }

    @Test func captionAskAndRunRecordTheTracker() throws {
        let caption = try E2E.run(["caption", "samples/clips/ball.mp4", "--model", Self.model, "--mask", "samples/masks/ball_f0.png",
                                   "--frames", "3", "--max-new-tokens", "2", "--json", "--quiet", "--sam2", Self.sam2])
        #expect(caption.status == 0, "\(caption.stderr)")
        var j = try caption.json()
        #expect(j["tracker"] as? String == "sam2" && j["sam2_model"] as? String == Self.sam2)
        let frames = try #require((j["regions"] as? [[String: Any]])?.first?["frames"] as? [[String: Any]])
        #expect(frames.first?["status"] as? String == "visible" && frames.allSatisfy { $0["lost"] as? Bool == false })
        let ask = try E2E.run(["ask", "samples/clips/ball.mp4", "--model", Self.model, "--region", "box=250,120,330,200",
                               "--question", "What is <Prompt0>?", "--frames", "2", "--max-new-tokens", "2", "--json", "--quiet", "--tracker", "flow"])
        #expect(ask.status == 0, "\(ask.stderr)")
        j = try ask.json()
        #expect(j["tracker"] as? String == "flow" && j["sam2_model"] is NSNull)
        // run: the spec's tracker keys (here through --set) choose it.
        let run = try E2E.run(["run", "pipelines/temporal-qa.yaml", "--video", "samples/clips/ball.mp4", "--region", "mask=samples/masks/ball_f0.png",
                               "--question", "What is <Prompt0>?", "--frames", "2", "--max-new-tokens", "2", "--quiet",
                               "--set", "tracker.kind=sam2", "--set", "tracker.sam2_model=\(E2E.root.appendingPathComponent(Self.sam2).path)"])
        #expect(run.status == 0, "\(run.stderr)")
        j = try run.json()
        #expect(j["tracker"] as? String == "sam2" && (j["sam2_model"] as? String)?.hasSuffix(Self.sam2) == true)
        // With an annotation nothing is tracked: no tracker.
        let annotated = try E2E.run(["ask", "--frames-dir", "Tests/Fixtures/images/f_video/frames", "--annotation", "Tests/Fixtures/images/f_video/annotation.json",
                                     "--model", Self.model, "--question", "What is <Prompt0>?", "--max-new-tokens", "2", "--json", "--quiet"])
        #expect(annotated.status == 0, "\(annotated.stderr)")
        j = try annotated.json()
        #expect(j["tracker"] is NSNull && j["mask_source"] as? String == "annotation")
    }

    @Test func batchRecordsTheTrackerAndResumeChecksIt() throws {
        let dir = E2E.tempDir("trackerwire-batch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let videos = dir.appendingPathComponent("videos")
        try FileManager.default.createDirectory(at: videos, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: E2E.root.appendingPathComponent("samples/clips/ball.mp4"), to: videos.appendingPathComponent("ball.mp4"))
        try "mask=\(E2E.root.appendingPathComponent("samples/masks/ball_f0.png").path)\n"
            .write(to: videos.appendingPathComponent("ball.regions"), atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("results.jsonl").path
        let base = ["batch", videos.path, "--pipeline", "pipelines/temporal-qa.yaml", "--set", "generation.max_new_tokens=2",
                    "--set", "frames.count=2", "--quiet", "--out", out]
        var r = try E2E.run(base + ["--sam2", Self.sam2])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try r.json()["ok"] as? Int == 1)
        let line = try #require(try JSONSerialization.jsonObject(with: Data(try String(contentsOfFile: out, encoding: .utf8).utf8)) as? [String: Any])
        let result = try #require(line["result"] as? [String: Any])
        #expect(result["tracker"] as? String == "sam2" && result["sam2_model"] as? String == Self.sam2)
        // Resuming with another tracker is another pipeline: refused before any work.
        r = try E2E.run(base + ["--resume", "--tracker", "flow"])
        #expect(r.status == 1 && r.lastErrorLine.contains("--resume with another pipeline") && r.lastErrorLine.contains("tracker flow"), "\(r.stderr)")
        // The same tracker (here from GAR_SAM2) is the same pipeline: the item is skipped.
        r = try E2E.run(base + ["--resume"], environment: ["GAR_SAM2": Self.sam2])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try r.json()["skipped"] as? Int == 1)
    }
}
