// Regression tests of the adversarial QA pass: hostile inputs that used to crash gar (a Swift
// trap, an out-of-memory kill), print Foundation's multi-field error text, name no input, accept a
// contradictory flag, or leave a temporary directory behind after SIGINT/SIGTERM. Each case runs
// the built binary on a small input (the whole suite takes a few seconds).
import Foundation
import Testing

@Suite(.serialized) struct AdversarialCLITests {
    static let model = "Tests/Fixtures/gar-tiny"
    static let frames = "Tests/Fixtures/images/f_video/frames"           // 4 frames, 160×120
    static let mask = "Tests/Fixtures/images/f_video/masks/region0_frame_000.png"

    /// A copy of the tiny checkpoint with `edit` applied to its config.json.
    static func modelWithConfig(_ dir: URL, _ edit: (inout [String: Any]) -> Void) throws -> String {
        let copy = dir.appendingPathComponent("model")
        try FileManager.default.copyItem(at: E2E.root.appendingPathComponent(model), to: copy)
        let url = copy.appendingPathComponent("config.json")
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: url)
        return copy.path
    }

    /// `args` run as a mask through ffmpeg into a 16-bit gray PNG (values 0 / 65535).
    static func sixteenBit(_ source: String, into dir: URL) throws -> String {
        let out = dir.appendingPathComponent("mask16.png").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ffmpeg", "-v", "error", "-y", "-i", E2E.root.appendingPathComponent(source).path, "-pix_fmt", "gray16be", out]
        try p.run()
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "ffmpeg could not write a 16-bit PNG")
        return out
    }

    // MARK: crashes

    /// num_hidden_layers = 10^12 used to build a 10^12-entry key list until the machine ran out of
    /// memory; hidden_size = 2^40 trapped on an overflow. Now: one config error line.
    @Test(arguments: [("num_hidden_layers", 1_000_000_000_000), ("hidden_size", 1 << 40)])
    func absurdConfigSizes(field: String, value: Int) throws {
        let dir = E2E.tempDir("config")
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = try Self.modelWithConfig(dir) { c in
            var mllm = c["mllm_config"] as! [String: Any]
            var text = mllm["text_config"] as! [String: Any]
            text[field] = value
            mllm["text_config"] = text
            c["mllm_config"] = mllm
        }
        let e = try E2E.failure(["inspect", m])
        #expect(e == "error: \(m)/config.json: mllm_config.text_config.\(field): must be between 1 and \(field == "hidden_size" ? 131072 : 1024), got \(value)")
    }

    /// --max-new-tokens Int.max overflowed "prompt + max new tokens" (a trap).
    @Test func hugeMaxNewTokens() throws {
        let e = try E2E.failure(["describe", "--model", Self.model, "--image", "Tests/Fixtures/images/d_rgb_256x192.png",
                                 "--mask", "Tests/Fixtures/images/d_mask0.png", "--max-new-tokens", String(Int.max)])
        #expect(e.hasPrefix("error: the prompt and generation need ") && e.hasSuffix("more than the model's 11520"), "\(e)")
    }

    /// --fps 1e300 looped 10^300 times, allocating until a 34 GB request trapped.
    @Test func hugeSamplingRate() throws {
        let dir = E2E.tempDir("fps")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try E2E.run(["frames", "samples/frames/png_seq", "--folder-fps", "25", "--fps", "1e300", "--out", dir.appendingPathComponent("f").path, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try r.json()["frames"] as? Int == 12, "every one of the 12 frames once: \(r.stdout)")
    }

    // MARK: inputs named, not crashing

    /// A 16-bit 0/65535 mask is a mask: it used to fail as "16-bit label value 65535 is above 255".
    @Test func sixteenBitMaskRegion() throws {
        let dir = E2E.tempDir("mask16")
        defer { try? FileManager.default.removeItem(at: dir) }
        let wide = try Self.sixteenBit(Self.mask, into: dir)
        func tokens(_ mask: String) throws -> [Int]? {
            let r = try E2E.run(["ask", "--model", Self.model, "--frames-dir", Self.frames, "--region", "mask=\(mask)",
                                 "--question", "What is <Prompt0>?", "--frames", "2", "--max-new-tokens", "3", "--json", "--quiet"])
            #expect(r.status == 0, "\(mask): \(r.stderr)")
            return try r.json()["token_ids"] as? [Int]
        }
        let eight = try tokens(Self.mask), sixteen = try tokens(wide)
        #expect(eight != nil && eight == sixteen, "the 16-bit copy is the same region")
        let r = try E2E.run(["describe", "--model", Self.model, "--image", "\(Self.frames)/frame_000.png", "--mask", wide, "--max-new-tokens", "2"])
        #expect(r.status == 0, "\(r.stderr)")
    }

    /// An empty image mask used to fail as "the mask is empty …" without naming the file.
    @Test func emptyImageMaskIsNamed() throws {
        let dir = E2E.tempDir("emptymask")
        defer { try? FileManager.default.removeItem(at: dir) }
        let empty = dir.appendingPathComponent("empty.pgm")
        try (Data("P5\n160 120\n255\n".utf8) + Data(count: 160 * 120)).write(to: empty)
        let e = try E2E.failure(["describe", "--model", Self.model, "--image", "\(Self.frames)/frame_000.png", "--mask", empty.path])
        #expect(e == "error: mask \(empty.path): the mask is empty (no nonzero pixel)")
    }

    /// A folder frame of another size reached the tracker as "frame 2: size 11x7 does not match …".
    @Test func frameFolderOfMixedSizes() throws {
        let dir = E2E.tempDir("mixed")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        for k in 0 ..< 3 {
            try fm.copyItem(atPath: E2E.root.appendingPathComponent("\(Self.frames)/frame_00\(k).png").path, toPath: dir.appendingPathComponent("f\(k).png").path)
        }
        try fm.copyItem(atPath: E2E.root.appendingPathComponent("samples/images/rgb.png").path, toPath: dir.appendingPathComponent("f3.png").path)
        let e = try E2E.failure(["ask", "--model", Self.model, "--frames-dir", dir.path, "--region", "mask=\(Self.mask)",
                                 "--question", "What is <Prompt0>?", "--max-new-tokens", "2", "--quiet"])
        #expect(e == "error: \(dir.path)/f3.png: is 11x7 but the folder's first frame is 160x120 (the frames of a folder must share one size)")
    }

    // MARK: outputs

    /// An output that cannot be created used to print Foundation's NSError dump (domain, code,
    /// userInfo with the temporary path); now one line naming the output.
    @Test func unwritableOutputIsOneLine() throws {
        let dir = E2E.tempDir("unwritable")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("file.txt")
        try Data("x".utf8).write(to: file)
        let out = file.appendingPathComponent("sub/answer.json").path       // under a regular file
        let e = try E2E.failure(["probe", "samples/clips/ball.mp4", "--output", out])
        #expect(e.hasPrefix("error: \(out): ") && !e.contains("Domain") && !e.contains(".tmp-"), "\(e)")
        let frames = file.appendingPathComponent("frames").path
        let e2 = try E2E.failure(["frames", "samples/frames/png_seq", "--count", "2", "--out", frames, "--quiet"])
        #expect(e2.hasPrefix("error: \(frames): ") && !e2.contains("Domain"), "\(e2)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["file.txt"])
    }

    /// SIGINT / SIGTERM while `gar frames` fills its temporary directory: the process ends by the
    /// signal and neither the output nor the hidden temporary directory (tens of MB) is left.
    @Test(arguments: [SIGINT, SIGTERM])
    func interruptedRunLeavesNothing(signal: Int32) throws {
        let dir = E2E.tempDir("signal")
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(E2E.gar))
        p.arguments = ["frames", "samples/clips/barcode.mp4", "--every", "1", "--size", "1920x1440", "--out", dir.appendingPathComponent("f").path, "--quiet"]
        p.currentDirectoryURL = E2E.root
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait until the temporary directory holds a frame (the work is under way), at most 20 s.
        let fm = FileManager.default
        let deadline = Date().addingTimeInterval(20)
        func tempHasAFrame() -> Bool {   // the staging folder is hidden inside the output folder
            let out = dir.appendingPathComponent("f")
            let temps = ((try? fm.contentsOfDirectory(atPath: out.path)) ?? []).filter { $0.hasPrefix(".gar-tmp-") }
            return temps.contains { !((try? fm.contentsOfDirectory(atPath: out.appendingPathComponent($0).path)) ?? []).isEmpty }
        }
        while !tempHasAFrame() && Date() < deadline && p.isRunning { usleep(20_000) }
        try #require(p.isRunning, "gar frames finished before it could be interrupted")
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == signal, "ended by the signal")
        #expect(try fm.contentsOfDirectory(atPath: dir.path) == [], "no output, no temporary directory")
    }

    // MARK: specs, batch and flags

    /// A bad --set value was reported at "spec.yaml:1"; an empty spec file ran with every default.
    @Test func specOverridesAndEmptySpec() throws {
        let dir = E2E.tempDir("spec")
        defer { try? FileManager.default.removeItem(at: dir) }
        let e = try E2E.failure(["run", "pipelines/temporal-qa.yaml", "--frames-dir", Self.frames, "--region", "mask=\(Self.mask)",
                                 "--model", Self.model, "--set", "frames.count=eight"])
        #expect(e == "error: --set: frames.count: expected a whole number, got 'eight'")
        let empty = dir.appendingPathComponent("empty.yaml")
        try Data().write(to: empty)
        let e2 = try E2E.failure(["run", empty.path, "--frames-dir", Self.frames, "--region", "mask=\(Self.mask)",
                                  "--model", Self.model, "--question", "What is <Prompt0>?"])
        #expect(e2 == "error: \(empty.path): the file is empty")
    }

    /// A model that cannot load stops a batch; it used to leave an empty results file behind.
    /// --threads 0 turned every item into an error line (exit 0); now it is refused up front.
    @Test func batchBadModelAndBadThreads() throws {
        let dir = E2E.tempDir("batch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let list = dir.appendingPathComponent("items.jsonl")
        let item = ["video": E2E.root.appendingPathComponent(Self.frames).path,
                    "regions": ["mask=\(E2E.root.appendingPathComponent(Self.mask).path)"]] as [String: Any]
        try JSONSerialization.data(withJSONObject: item).write(to: list)
        let out = dir.appendingPathComponent("results.jsonl").path
        let e = try E2E.failure(["batch", list.path, "--pipeline", "pipelines/temporal-qa.yaml", "--model", "/nonexistent/model", "--out", out, "--quiet"])
        #expect(e.contains("/nonexistent/model"), "\(e)")
        #expect(!FileManager.default.fileExists(atPath: out), "no empty results file")
        let r = try E2E.run(["batch", list.path, "--pipeline", "pipelines/temporal-qa.yaml", "--model", Self.model, "--out", out, "--threads", "0", "--quiet"])
        #expect(r.status != 0 && r.stderr.hasPrefix("error: --threads must be at least 1, got 0"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// Flags that do nothing in the mode given were silently ignored; errors of the image mode's
    /// generation settings printed the root command's usage.
    @Test func contradictoryAndBadFlags() throws {
        var r = try E2E.run(["ask", "--model", Self.model, "--frames-dir", Self.frames, "--region", "mask=\(Self.mask)",
                             "--question", "What is <Prompt0>?", "--per-region-boxes"])
        #expect(r.status != 0 && r.stderr.hasPrefix("error: --per-region-boxes applies to --image only"), "\(r.stderr)")
        r = try E2E.run(["ask", "--model", Self.model, "--image", "\(Self.frames)/frame_000.png", "--mask", Self.mask,
                         "--question", "What is <Prompt0>?", "--temperature", "1", "--top-p", "0"])
        #expect(r.status == 64 && r.stderr == "error: --top-p must be in (0, 1], got 0.0\n", "\(r.stderr)")
    }

    /// inspect exited 1 on a mismatched checkpoint with nothing on stderr.
    @Test func inspectMismatchSaysWhy() throws {
        let dir = E2E.tempDir("inspect")
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = try Self.modelWithConfig(dir) { c in
            var mllm = c["mllm_config"] as! [String: Any]
            var text = mllm["text_config"] as! [String: Any]
            text["vocab_size"] = (text["vocab_size"] as! Int) + 1000
            mllm["text_config"] = text
            c["mllm_config"] = mllm
        }
        let r = try E2E.run(["inspect", m])
        #expect(r.status == 1 && r.stdout.contains("shape mismatches (1)"))
        #expect(r.stderr == "error: \(m): the checkpoint does not match its config.json (tensors: 1 with the wrong shape; see the report)\n")
    }

    // MARK: second pass

    /// Values starting with '-' read as options: "--box -10,-10,5,5" failed as "Missing value for
    /// '--box'"; --fps inf passed validation and failed later as "needs a rate > 0".
    @Test func negativeAndInfiniteNumbers() throws {
        let caption = ["caption", "samples/clips/ball.mp4", "--model", Self.model, "--max-new-tokens", "2", "--quiet"]
        var e = try E2E.failure(caption + ["--box", "-10,-10,5,5"])
        #expect(e == "error: <Prompt0> on frame 0 box -10,-10,5,5: is outside the 640x360 frame (valid x 0...639, y 0...359)")
        e = try E2E.failure(caption + ["--point", "-1,-1"])
        #expect(e == "error: <Prompt0> on frame 0 point -1,-1: is outside the 640x360 frame")
        var r = try E2E.run(caption + ["--box", "1,1,9,9", "--frame", "-1"])
        #expect(r.status != 0 && r.stderr.hasPrefix("error: --frame must be >= 0, got -1\n"), "\(r.stderr)")
        r = try E2E.run(caption + ["--box", "1,1,9,9", "--frames", "-3"])
        #expect(r.status != 0 && r.stderr.hasPrefix("error: --frames must be at least 1, got -3\n"), "\(r.stderr)")
        r = try E2E.run(caption + ["--box", "1,1,9,9", "--fps", "inf"])
        #expect(r.status != 0 && r.stderr.hasPrefix("error: --fps must be a finite rate > 0, got inf\n"), "\(r.stderr)")
        e = try E2E.failure(["frames", "samples/clips/ball.mp4", "--fps", "inf", "--out", "/nonexistent/never-written"])
        #expect(e == "error: --fps: must be a finite rate > 0, got inf")
        r = try E2E.run(["track", "samples/clips/ball.mp4", "--box", "1,1,9,9", "--fps", "inf", "--out", "/nonexistent/never-written"])
        #expect(r.status == 64 && r.stderr.hasPrefix("error: --fps must be a finite rate > 0, got inf\n"), "\(r.stderr)")
        // Negative numbers reach validation instead of ArgumentParser's "Missing value".
        for (flag, value, message) in [("--temperature", "-1", "--temperature must be a finite value >= 0, got -1.0"),
                                       ("--top-p", "-0.5", "--top-p must be in (0, 1], got -0.5"),
                                       ("--folder-fps", "-5", "--folder-fps must be a finite rate > 0, got -5.0")] {
            r = try E2E.run(caption + ["--box", "1,1,9,9", flag, value])
            #expect(r.status != 0 && r.stderr.hasPrefix("error: \(message)\n"), "\(flag): \(r.stderr)")
        }
        r = try E2E.run(["describe", "--model", Self.model, "--image", "samples/images/gray.png", "--mask", "x.png", "--temperature", "-2"])
        #expect(r.status == 64 && r.stderr == "error: --temperature must be a finite value >= 0, got -2.0\n", "\(r.stderr)")
        // An overlay extension no muxer takes is refused before the model runs (nothing on stdout).
        r = try E2E.run(caption + ["--box", "1,1,9,9", "--overlay", "/tmp/never-written.xyz"])
        #expect(r.status != 0 && r.stdout.isEmpty && r.stderr.contains("cannot write a video with the extension '.xyz'"), "\(r.stderr)")
    }

    /// An output that is a directory, or under a regular file, used to fail only after the model
    /// had run (and printed its answer), as "Is a directory" / "File exists"; now before any work,
    /// naming the file in the way. A batch --out under a file too.
    @Test func unwritableDestinationsFailFirst() throws {
        let dir = E2E.tempDir("dest")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("file.txt")
        try Data("x".utf8).write(to: file)
        let ask = ["ask", "--model", Self.model, "--frames-dir", Self.frames, "--region", "mask=\(Self.mask)",
                   "--question", "What is <Prompt0>?", "--max-new-tokens", "2", "--quiet"]
        for flag in ["--output", "--overlay"] {
            let r = try E2E.run(ask + [flag, dir.path])
            #expect(r.status == 1 && r.stdout.isEmpty && r.stderr == "error: \(dir.path): is a directory, not a file\n", "\(flag): \(r.stderr)")
            let under = file.appendingPathComponent("a/out.mp4").path
            let r2 = try E2E.run(ask + [flag, under])
            #expect(r2.status == 1 && r2.stdout.isEmpty && r2.stderr == "error: \(under): \(file.path) is a file, not a folder\n", "\(flag): \(r2.stderr)")
        }
        #expect(try E2E.failure(["probe", "samples/clips/ball.mp4", "--output", dir.path]) == "error: \(dir.path): is a directory, not a file")
        let list = dir.appendingPathComponent("items.txt")
        try Data((E2E.root.appendingPathComponent(Self.frames).path + "\n").utf8).write(to: list)
        let results = file.appendingPathComponent("results.jsonl").path
        let e = try E2E.failure(["batch", list.path, "--pipeline", "pipelines/temporal-qa.yaml", "--model", Self.model, "--out", results, "--quiet"])
        #expect(e == "error: \(results): \(file.path) is a file, not a folder")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["file.txt", "items.txt"], "nothing else written")
    }

    /// A batch list naming a file that does not exist: one error line naming it ("no such file",
    /// not a complaint about its missing regions), and the batch goes on with the next item.
    @Test func batchListWithAMissingVideo() throws {
        let dir = E2E.tempDir("batchmissing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("nope.mp4").path
        let good = ["video": E2E.root.appendingPathComponent(Self.frames).path, "id": "good",
                    "regions": ["mask=\(E2E.root.appendingPathComponent(Self.mask).path)"]] as [String: Any]
        let lines = try [["video": missing, "id": "missing"], good].map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        let list = dir.appendingPathComponent("items.jsonl")
        try Data(lines.joined(separator: "\n").utf8).write(to: list)
        let out = dir.appendingPathComponent("results.jsonl").path
        let r = try E2E.run(["batch", list.path, "--pipeline", "pipelines/temporal-qa.yaml", "--model", Self.model, "--out", out,
                             "--set", "generation.max_new_tokens=2", "--set", "frames.count=2", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let records = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let byID = Dictionary(uniqueKeysWithValues: records.map { ($0["id"] as? String ?? "", $0) })
        #expect(byID["missing"]?["error"] as? String == "\(missing): no such file")
        #expect(byID["good"]?["status"] as? String == "ok")
    }

    /// --threads 100000 made gar frames hang starting decoder threads; -1 was "Missing value".
    @Test(arguments: [["frames", "samples/clips/ball.mp4", "--count", "2", "--out", "/nonexistent/never-written"],
                      ["probe", "samples/clips/ball.mp4"], ["bench", "decode", "samples/clips/ball.mp4"]])
    func decoderThreadsBounded(command: [String]) throws {
        for n in ["100000", "-1"] {
            let r = try E2E.run(command + ["--threads", n])
            #expect(r.status == 64 && r.stderr.hasPrefix("error: --threads must be between 0 (one per core) and 64, got \(n)\n"), "\(command[0]): \(r.stderr)")
        }
    }

    /// `batch merge` of a file that is one unterminated line (not a results file) merged zero
    /// records without a word; the dropped bytes are now reported.
    @Test func mergeSaysWhatItIgnored() throws {
        let dir = E2E.tempDir("merge")
        defer { try? FileManager.default.removeItem(at: dir) }
        let part = dir.appendingPathComponent("part.jsonl")
        try Data([0xFF, 0xFE, 0x20, 0x62, 0x61, 0x64]).write(to: part)
        let r = try E2E.run(["batch", "merge", part.path, "--out", dir.appendingPathComponent("all.jsonl").path])
        #expect(r.status == 0 && r.stderr == "warning: \(part.path): ignored a partial last line (6 bytes without a newline)\n", "\(r.stderr)")
    }
}
