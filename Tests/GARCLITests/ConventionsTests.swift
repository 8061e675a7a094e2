// One convention for every command (issue 10 items 2 and 6), through the built binary: usage
// errors exit 64 and runtime errors 1, the error is one line starting with "error: ", repeated
// single-valued options are refused, a video is not a mask, and messages name the real problem
// (a symlink loop, a FIFO, a negative value).
import Foundation
import Testing

@Suite struct ConventionsTests {
    static let model = "Tests/Fixtures/gar-tiny"
    static let clip = "samples/clips/ball.mp4"
    static let mask = "samples/masks/ball_f0.png"
    static let image = "samples/images/rgb.png"
    static let frames = "Tests/Fixtures/images/f_video/frames"
    static let spec = "pipelines/temporal-qa.yaml"

    /// Every (sub)command with an argument list that is a usage mistake for it.
    static let usageMistakes: [[String]] = [
        ["probe", clip, "--threads", "many"],
        ["frames", clip, "--count", "3", "--every", "2", "--out", "/nonexistent/never"],
        ["inspect"],
        ["tokenize", "--model", model],
        ["describe", "--model", model, "--image", image],
        ["ask", "--model", model, "--image", image, "--question", "What?"],
        ["caption", clip, "--model", model],
        ["track", clip, "--box", "1,2,3", "--out", "/nonexistent/never"],
        ["eval-track", "samples", "--baseline", "nope"],
        ["run", spec, "--video", clip],
        ["run", spec, "--frames-dir", frames, "--region", "mask=\(mask)", "--model", model, "--set", "frames.count=eight"],
        ["ask", clip, "--model", model, "--region", "bogus=1", "--question", "What is <Prompt0>?"],
        ["batch", "samples/frames", "--pipeline", spec, "--out", "/nonexistent/never.jsonl", "--shard", "5/2"],
        ["batch", "run", "samples/frames", "--pipeline", spec],
        ["batch", "merge", "--out", "/nonexistent/never.jsonl"],
        ["bench", "decode", clip, "--threads", "100000"],
        ["bench", "model"],
        ["bench", "ops", "--reps", "x"],
        ["bench", "tokenizer", "--model", model, "--repeats", "0"],
        ["bench", "track", "--objects", "3"],
        ["bench", "videorefer"],
        ["no-such-command"],
    ]

    /// Usage errors exit 64 in every command, with one "error: " line and nothing on stdout.
    @Test(arguments: usageMistakes)
    func usageErrorsExit64(args: [String]) throws {
        let r = try E2E.run(args)
        #expect(r.status == 64, "\(args): \(r.status) \(r.stderr)")
        #expect(r.stderr.hasPrefix("error: ") && r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
        #expect(r.stdout.isEmpty, "\(args): \(r.stdout)")
    }

    /// An unknown option is a usage error in every command.
    @Test(arguments: CommandSurfaceTests.commands.map { [$0] } + CommandSurfaceTests.benches.map { ["bench", $0] } + [["batch", "merge"]])
    func unknownOptionExits64(command: [String]) throws {
        let r = try E2E.run(command + ["x", "--out", "/nonexistent/never", "--no-such-option"])
        #expect(r.status == 64 && r.stderr.hasPrefix("error: ") && r.stderr.split(separator: "\n").count == 1, "\(command): \(r.status) \(r.stderr)")
    }

    /// Runtime errors (a bad input file) exit 1 with one "error: " line naming the file.
    @Test(arguments: [
        ["probe", "/nonexistent/clip.mp4"],
        ["frames", "/nonexistent/clip.mp4", "--count", "2", "--out", "/nonexistent/never"],
        ["inspect", "/nonexistent/model"],
        ["describe", "--model", model, "--image", "/nonexistent/clip.mp4", "--mask", mask],
        ["track", "/nonexistent/clip.mp4", "--mask", mask, "--out", "/nonexistent/never"],
        ["run", "/nonexistent/clip.mp4", "--video", clip, "--region", "mask=\(mask)"],
        ["batch", "merge", "--out", "/nonexistent/never.jsonl", "/nonexistent/clip.mp4"],
    ])
    func runtimeErrorsExit1(args: [String]) throws {
        let r = try E2E.run(args)
        let namesInput = r.stderr.contains("/nonexistent/clip.mp4") || r.stderr.contains("/nonexistent/model")
        #expect(r.status == 1 && r.stderr.hasPrefix("error: ") && namesInput, "\(args): \(r.status) \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
    }

    /// --help and --version still print on stdout and exit 0.
    @Test func helpAndVersionExit0() throws {
        var r = try E2E.run(["--version"])
        #expect(r.status == 0 && r.stdout == "0.1.0\n" && r.stderr.isEmpty)
        r = try E2E.run(["frames", "--help"])
        #expect(r.status == 0 && r.stdout.contains("USAGE: gar frames") && r.stderr.isEmpty)
        r = try E2E.run(["help", "track"])
        #expect(r.status == 0 && r.stdout.contains("USAGE: gar track"))
    }

    // MARK: repeated options

    /// A single-valued option given twice used to let the last one win; now exit 64.
    @Test(arguments: [
        (["caption", clip, "--model", model, "--mask", mask, "--mask", "other.png"], "--mask"),
        (["caption", clip, "--model", model, "--box", "1,1,9,9", "--box", "2,2,9,9"], "--box"),
        (["caption", clip, "--model", model, "--box", "1,1,9,9", "--frame", "0", "--frame", "3"], "--frame"),
        (["caption", clip, "--model", model, "--box", "1,1,9,9", "--output", "a.json", "--output", "b.json"], "--output"),
        (["describe", "--model", model, "--image", image, "--mask", mask, "--mask", mask], "--mask"),
        (["probe", clip, "-o", "a.json", "--output=b.json"], "--output"),
        (["frames", clip, "--count", "2", "--out", "a", "--out", "b"], "--out"),
        (["track", clip, "--mask", mask, "--count", "2", "--count", "3", "--out", "a"], "--count"),
    ])
    func repeatedSingleValuedOptionIsRefused(args: [String], option: String) throws {
        let r = try E2E.run(args)
        #expect(r.status == 64 && r.stderr.hasPrefix("error: \(option) is given twice (") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }

    /// gar track's prompt options apply to the next prompt and are all used: a --frame before
    /// the second --mask re-prompts the object there (without it, a second object); two --frame
    /// in a row (one would be lost) is refused.
    @Test func trackPromptOptionsAreAllUsed() throws {
        let dir = E2E.tempDir("trackargs")
        defer { try? FileManager.default.removeItem(at: dir) }
        let masks = "Tests/Fixtures/images/f_video/masks"
        var r = try E2E.run(["track", Self.frames, "--mask", "\(masks)/region0_frame_000.png", "--frame", "1", "--mask", "\(masks)/region1_frame_001.png",
                             "--no-overlay", "--json", "--out", dir.appendingPathComponent("t").path, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect((try r.json()["objects"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["object1"], "one object, re-prompted on frame 1")
        r = try E2E.run(["track", Self.frames, "--mask", "\(masks)/region0_frame_000.png", "--mask", "\(masks)/region1_frame_000.png",
                         "--no-overlay", "--json", "--out", dir.appendingPathComponent("t").path, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect((try r.json()["objects"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["object1", "object2"], "two masks, two objects")
        r = try E2E.run(["track", Self.frames, "--frame", "1", "--frame", "2", "--mask", "\(masks)/region0_frame_000.png", "--out", dir.appendingPathComponent("u").path])
        #expect(r.status == 64 && r.stderr == "error: --frame 2: follows --frame 1 with no prompt between them (give one --frame per prompt)\n", "\(r.stderr)")
    }

    // MARK: inputs

    /// A video given as a mask or image used to become a whole-frame mask (its first frame).
    @Test func videoIsNotAStillImage() throws {
        let dir = E2E.tempDir("videomask")
        defer { try? FileManager.default.removeItem(at: dir) }
        let expected = "error: \(Self.clip): is a video, not a still image (give a PNG or JPEG)"
        #expect(try E2E.failure(["describe", "--model", Self.model, "--image", Self.image, "--mask", Self.clip]) == expected)
        #expect(try E2E.failure(["describe", "--model", Self.model, "--image", Self.clip, "--mask", Self.mask]) == expected)
        let r = try E2E.run(["track", Self.clip, "--mask", Self.clip, "--count", "2", "--out", dir.appendingPathComponent("t").path, "--quiet"])
        #expect(r.status == 1 && r.stderr == expected + "\n", "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    /// A symlink loop was "no such file"; a FIFO was "file is empty".
    @Test func symlinkLoopAndFIFOAreNamed() throws {
        let dir = E2E.tempDir("special")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.mp4").path, b = dir.appendingPathComponent("b.mp4").path
        try FileManager.default.createSymbolicLink(atPath: a, withDestinationPath: b)
        try FileManager.default.createSymbolicLink(atPath: b, withDestinationPath: a)
        #expect(try E2E.failure(["probe", a]) == "error: \(a): too many levels of symbolic links (a symlink loop)")
        let fifo = dir.appendingPathComponent("pipe.mp4").path
        try #require(mkfifo(fifo, 0o600) == 0)
        #expect(try E2E.failure(["probe", fifo]) == "error: \(fifo): is a FIFO (named pipe), not a regular file")
        #expect(try E2E.failure(["describe", "--model", Self.model, "--image", Self.image, "--mask", fifo]) == "error: \(fifo): is a FIFO (named pipe), not a regular file")
        // Text inputs too (reading a FIFO used to block for ever).
        for args in [["run", fifo, "--video", Self.clip, "--region", "mask=\(Self.mask)", "--quiet"], ["tokenize", "--model", Self.model, "--file", fifo],
                     ["caption", Self.clip, "--model", Self.model, "--annotation", fifo, "--quiet"],
                     ["run", Self.spec, "--video", Self.clip, "--region", "scribble=\(a)", "--quiet"]] {
            let e = try E2E.failure(args)
            #expect(e == "error: \(fifo): is a FIFO (named pipe), not a regular file" || e == "error: \(a): too many levels of symbolic links (a symlink loop)", "\(args): \(e)")
        }
    }

    /// A negative number after an option is its value: "--times -1" was "Missing value for '--times'".
    @Test func negativeValuesAreValues() throws {
        var r = try E2E.run(["frames", Self.clip, "--times", "-1", "--out", "/nonexistent/never"])
        #expect(r.status == 64 && r.stderr == "error: --times: '-1' is not a time in seconds >= 0\n", "\(r.stderr)")
        r = try E2E.run(["frames", Self.clip, "--indices", "-3", "--out", "/nonexistent/never"])
        #expect(r.status == 64 && r.stderr == "error: --indices: '-3' is not a frame index >= 0\n", "\(r.stderr)")
        r = try E2E.run(["frames", Self.clip, "--count", "-2", "--out", "/nonexistent/never"])
        #expect(r.status == 64 && r.stderr == "error: --count: must be > 0, got -2\n", "\(r.stderr)")
    }
}
