// Failures found by re-running the adversarial sweep of issue 10 (tools/qa/sweep.py), each
// checked through the built binary: device outputs, files inside the model folder, CRLF lists
// and scribbles, batch item errors in the item's own terms, exit codes of flag values, messages.
import Foundation
import TestSupport
import Testing

@Suite(.serialized) struct SweepRegressionTests {
    static let model = "Tests/Fixtures/gar-tiny"
    static let clip = "samples/clips/ball.mp4"       // 640×360, 100 frames
    static let mask = "samples/masks/ball_f0.png"    // the ball on frame 0, x 41…120, y 141…220

    static func path(_ repoPath: String) -> String { E2E.root.appendingPathComponent(repoPath).path }

    /// Runs gar with `dir` as the working folder.
    static func run(_ args: [String], in dir: URL) throws -> E2E.Result {
        let r = try ChildProcess.run(try #require(E2E.gar), args, directory: dir, environment: ProcessInfo.processInfo.environment)
        return E2E.Result(status: r.status, stdout: String(decoding: r.stdout, as: UTF8.self), stderr: r.stderr, signaled: r.signaled)
    }

    static func isCharacterDevice(_ url: URL) -> Bool {
        var st = stat()
        return lstat(url.path, &st) == 0 && st.st_mode & S_IFMT == S_IFCHR
    }

    // MARK: outputs

    /// `-o` naming a device (here copies of /dev/full and /dev/null made in a temporary folder):
    /// the atomic replace used to rename a file over the device node and exit 0 — `gar probe v.mp4
    /// -o /dev/full` replaced the machine's /dev/full with a regular file. A device is written as
    /// it is: a full one is an error, the node stays.
    @Test func aDeviceOutputIsWrittenNotReplaced() throws {
        let dir = E2E.tempDir("sweep-device")
        defer { try? FileManager.default.removeItem(at: dir) }
        let full = dir.appendingPathComponent("full"), null = dir.appendingPathComponent("null")
        // Making device nodes needs root (CI and the dev machine run as root); elsewhere nothing to check.
        // Device numbers (major 1: memory devices; minor 7 full, 3 null) as glibc's makedev packs small ones.
        guard mknod(full.path, S_IFCHR | 0o666, dev_t(1 << 8 | 7)) == 0, mknod(null.path, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0 else { return }
        let r = try Self.run(["probe", Self.path(Self.clip), "-o", "full"], in: dir)
        #expect(r.status == 1 && r.stderr.hasPrefix("error: ") && r.stderr.contains("No space left on device"), "\(r.status) \(r.stderr)")
        #expect(Self.isCharacterDevice(full), "the device node was replaced")
        let n = try Self.run(["probe", Self.path(Self.clip), "-o", "null"], in: dir)
        #expect(n.status == 0 && n.stderr.isEmpty, "\(n.stderr)")
        #expect(Self.isCharacterDevice(null))
        // An overlay video cannot go to a device (the muxer seeks): refused before any work.
        let o = try Self.run(["caption", Self.path(Self.clip), "--model", Self.path(Self.model), "--mask", Self.path(Self.mask),
                              "--overlay", "null", "--quiet"], in: dir)
        #expect(o.status == 1 && o.stderr == "error: null: cannot write (it exists and is not a regular file)\n", "\(o.stderr)")
        #expect(Self.isCharacterDevice(null))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["full", "null"])
    }

    /// An output file inside the model folder is one of its inputs: `caption --output
    /// MODEL/config.json` used to write the answer over the model's config.
    @Test func aFileInTheModelFolderIsNotAnOutput() throws {
        let dir = E2E.tempDir("sweep-model")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("model")
        try FileManager.default.copyItem(at: E2E.root.appendingPathComponent(Self.model), to: model)
        let config = try Data(contentsOf: model.appendingPathComponent("config.json"))
        let r = try Self.run(["caption", Self.path(Self.clip), "--model", "model", "--mask", Self.path(Self.mask),
                              "--output", "model/config.json", "--quiet"], in: dir)
        #expect(r.status == 64 && r.stderr == "error: --output model/config.json: is a file in the input folder model; gar never writes over its inputs, choose another path\n",
                "\(r.status) \(r.stderr)")
        let b = try Self.run(["batch", Self.path("samples/clips"), "--pipeline", Self.path("pipelines/caption-tracked-object.yaml"),
                              "--model", "model", "--out", "model/tokenizer.json", "--quiet"], in: dir)
        #expect(b.status == 64 && b.lastErrorLine.contains("is a file in the input folder model"), "\(b.status) \(b.stderr)")
        #expect(try Data(contentsOf: model.appendingPathComponent("config.json")) == config)
        // A new file there is not an input: only existing files are protected.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model"])
    }

    /// `eval-track --save` inside the dataset (e.g. its JPEGImages/480p) wrote the predicted
    /// PNGs among the dataset's frames.
    @Test func evalTrackSavesOutsideTheDataset() throws {
        let dir = E2E.tempDir("sweep-eval")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("davis/JPEGImages/480p"), withIntermediateDirectories: true)
        let r = try Self.run(["eval-track", "davis", "--save", "davis/JPEGImages/480p", "--quiet"], in: dir)
        #expect(r.status == 64 && r.stderr == "error: --save davis/JPEGImages/480p: is inside the dataset davis; its PNGs would mix with the dataset's files, choose a folder outside it\n",
                "\(r.status) \(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("davis/JPEGImages/480p").path).isEmpty)
    }

    // MARK: inputs

    /// "1,,2" is a typo, not the frames [1, 2].
    @Test func anEmptyFrameIndexIsRefused() throws {
        let dir = E2E.tempDir("sweep-indices")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Self.run(["frames", Self.path(Self.clip), "--indices", "1,,2", "--out", "o", "--quiet"], in: dir)
        #expect(r.status == 64 && r.stderr == "error: --indices: '' is not a frame index >= 0\n", "\(r.status) \(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    /// Files with CRLF line ends ("\r\n" is one Character in Swift, so splitting on "\n" kept the
    /// whole file one line): a scribble file, and a batch list.
    @Test func crlfFilesAreReadLineByLine() throws {
        let dir = E2E.tempDir("sweep-crlf")
        defer { try? FileManager.default.removeItem(at: dir) }
        try "pos 5 60,170 100,200\r\npos 5 70,180 90,190\r\n".write(to: dir.appendingPathComponent("s.txt"), atomically: true, encoding: .utf8)
        let t = try Self.run(["track", Self.path(Self.clip), "--scribble", "s.txt", "--count", "3", "--no-overlay", "--out", "o", "--quiet"], in: dir)
        #expect(t.status == 0, "\(t.stderr)")
        let line = "{\"id\": \"ID\", \"video\": \"\(Self.path(Self.clip))\", \"regions\": [\"box=1,2\"]}"
        try (line.replacingOccurrences(of: "ID", with: "a") + "\r\n" + line.replacingOccurrences(of: "ID", with: "b") + "\r\n")
            .write(to: dir.appendingPathComponent("items.jsonl"), atomically: true, encoding: .utf8)
        let b = try Self.run(["batch", "items.jsonl", "--pipeline", Self.path("pipelines/caption-tracked-object.yaml"),
                              "--model", Self.path(Self.model), "--out", "r.jsonl", "--quiet"], in: dir)
        #expect(b.status == 0, "\(b.stderr)")
        let errors = try Self.errors(dir.appendingPathComponent("r.jsonl"))
        #expect(errors.count == 2 && errors["b"]?.hasPrefix("items.jsonl line 2 regions[0] 'box=1,2': ") == true, "\(errors)")
    }

    /// A one-character results file ("h") trapped in NSString.deletingLastPathComponent (SIGILL
    /// and a backtrace); an unreadable side file (here a FIFO) stopped the whole batch instead of
    /// being its item's error line.
    @Test func oneCharacterPathsAndBadSideFiles() throws {
        let dir = E2E.tempDir("sweep-onechar")
        defer { try? FileManager.default.removeItem(at: dir) }
        let v = dir.appendingPathComponent("v")
        try FileManager.default.createDirectory(at: v, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.path(Self.clip), toPath: v.appendingPathComponent("a.mp4").path)
        #expect(mkfifo(v.appendingPathComponent("a.regions").path, 0o644) == 0)
        let r = try Self.run(["batch", "v", "--pipeline", Self.path("pipelines/caption-tracked-object.yaml"),
                              "--model", Self.path(Self.model), "--out", "h", "--quiet"], in: dir)
        #expect(!r.signaled && r.status == 0, "\(r.status) \(r.stderr.prefix(300))")
        #expect(try Self.errors(dir.appendingPathComponent("h")) == ["a.mp4": "v/a.regions: is a FIFO (named pipe), not a regular file"])
    }

    // MARK: messages and exit codes

    /// `bench videorefer --score` only scores: run options beside it were silently ignored.
    @Test func scoreRefusesRunOptions() throws {
        let r = try E2E.run(["bench", "videorefer", "--score", "Tests/Fixtures/videorefer/predictions_fixed.jsonl",
                             "--questions", "Tests/Fixtures/videorefer/questions.json"])
        #expect(r.status == 64 && r.stderr.hasPrefix("error: --score only scores a predictions file"), "\(r.status) \(r.stderr)")
    }

    /// The `error` of each line of a results file, by id.
    static func errors(_ results: URL) throws -> [String: String] {
        var out: [String: String] = [:]
        for line in try String(contentsOf: results, encoding: .utf8).split(separator: "\n") {
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            out[obj["id"] as? String ?? "?"] = obj["error"] as? String ?? ""
        }
        return out
    }

    /// A batch item's errors name the file, line and field its value came from — not the flags
    /// of `gar ask` (`--region '…'`, `--box …`, `--frame …`, `--question`) that the shared
    /// checks name when the value came from the command line.
    @Test func batchItemErrorsNameTheirLineAndField() throws {
        let dir = E2E.tempDir("sweep-items")
        defer { try? FileManager.default.removeItem(at: dir) }
        let video = Self.path(Self.clip), mask = Self.path(Self.mask)
        let items: [(String, [String: Any])] = [
            ("a", ["regions": ["box=1,2"]]),
            ("b", ["regions": ["mask=\(mask) frame=-1"]]),
            ("c", ["regions": ["mask=\(mask) frame=500"]]),
            ("d", ["regions": ["mask=\(mask)"], "questions": ["What is <Prompt0>?", " "]]),
            ("e", ["regions": ["mask=\(mask)", "bogus=1"]]),
        ]
        var text = ""
        for (id, fields) in items {
            var obj = fields
            obj["id"] = id
            obj["video"] = video
            text += String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self) + "\n"
        }
        try text.write(to: dir.appendingPathComponent("items.jsonl"), atomically: true, encoding: .utf8)
        let r = try Self.run(["batch", "items.jsonl", "--pipeline", Self.path("pipelines/caption-tracked-object.yaml"),
                              "--model", Self.path(Self.model), "--out", "r.jsonl", "--quiet"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let e = try Self.errors(dir.appendingPathComponent("r.jsonl"))
        #expect(e["a"] == "items.jsonl line 1 regions[0] 'box=1,2': box=1,2: expected x1,y1,x2,y2 (integers, inclusive corners)")
        #expect(e["b"] == "items.jsonl line 2 regions[0] 'mask=\(mask) frame=-1': frame=-1: expected a frame index >= 0")
        #expect(e["c"] == "items.jsonl line 3 regions[0] 'mask=\(mask) frame=500': <Prompt0> frame=500: past the end: \(video) has 100 frames")
        #expect(e["d"] == "items.jsonl line 4 questions[1]: the question is empty")
        #expect(e["e"]?.hasPrefix("items.jsonl line 5 regions[1] 'bogus=1': unknown item 'bogus='") == true, "\(e)")
        for (id, message) in e { #expect(!message.contains("--"), "\(id): \(message)") }

        // A folder's side file: its path and line.
        let videos = dir.appendingPathComponent("videos")
        try FileManager.default.createDirectory(at: videos, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: video, toPath: videos.appendingPathComponent("clip.mp4").path)
        try "# the ball\n\nbox=5,5,1,1\n".write(to: videos.appendingPathComponent("clip.regions"), atomically: true, encoding: .utf8)
        let f = try Self.run(["batch", "videos", "--pipeline", Self.path("pipelines/caption-tracked-object.yaml"),
                              "--model", Self.path(Self.model), "--out", "f.jsonl", "--quiet"], in: dir)
        #expect(f.status == 0, "\(f.stderr)")
        #expect(try Self.errors(dir.appendingPathComponent("f.jsonl")) == ["clip.mp4": "videos/clip.regions line 3 'box=5,5,1,1': box=5,5,1,1: x2 must be >= x1 and y2 >= y1"])
    }

    /// With more regions than the model has prompt tokens, the error says how many were given
    /// (it said "6 regions given" for any number above the tiny model's 5).
    @Test func tooManyRegionsSaysHowMany() throws {
        let dir = E2E.tempDir("sweep-regions")
        defer { try? FileManager.default.removeItem(at: dir) }
        // One small block on frame 0 of the 640×360 clip (COCO RLE: column-major runs), 10 times.
        var runs: [Int] = [], pos = 0
        for x in 60 ..< 100 { let start = x * 360 + 170; runs += [start - pos, 40]; pos = start + 40 }
        runs.append(640 * 360 - pos)
        let region: [String: Any] = ["0": ["segmentation": ["size": [360, 640], "counts": runs]]]
        try JSONSerialization.data(withJSONObject: Array(repeating: region, count: 10)).write(to: dir.appendingPathComponent("a.json"))
        let r = try Self.run(["caption", Self.path(Self.clip), "--model", Self.path(Self.model), "--annotation", "a.json", "--quiet"], in: dir)
        #expect(r.status == 1 && r.stderr == "error: 10 regions given, but the model has prompt tokens for at most 5\n", "\(r.status) \(r.stderr)")
    }

    /// Invalid command-line values a job names by their flag exit 64 like the parser's own
    /// (they exited 1): an empty --question, a --set value nested too deep.
    @Test func flagValueErrorsAreUsageErrors() throws {
        let common = ["--model", Self.path(Self.model), "--quiet", "--max-new-tokens", "2"]
        let q = try E2E.run(["ask", Self.path(Self.clip), "--region", "mask=\(Self.path(Self.mask))", "--question", ""] + common)
        #expect(q.status == 64 && q.stderr == "error: --question: the question is empty\n", "\(q.status) \(q.stderr)")
        let s = try E2E.run(["caption", Self.path(Self.clip), "--mask", Self.path(Self.mask), "--set", "description=" + String(repeating: "[", count: 500)] + common)
        #expect(s.status == 64 && s.stderr.hasPrefix("error: --set description:1: nested deeper than 64 levels"), "\(s.status) \(s.stderr)")
    }

    /// `track --frame K` counts tracked frames: with --count 4 the message said "the clip has 4
    /// frames" of a 100-frame clip.
    @Test func aPromptFramePastTheTrackedFramesSaysTracked() throws {
        let dir = E2E.tempDir("sweep-frame")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Self.run(["track", Self.path(Self.clip), "--count", "4", "--frame", "4", "--mask", Self.path(Self.mask), "--out", "o", "--quiet"], in: dir)
        #expect(r.status == 1 && r.stderr == "error: prompt frame 4 is past the end: 4 frames are tracked (indices 0..<4)\n", "\(r.status) \(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }
}
