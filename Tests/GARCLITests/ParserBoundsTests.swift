// Every parser bounded, through the binary: hostile numbers, nesting and sizes in scribble files,
// prompt flags, pipeline specs, annotation JSON (RLE), mask images and batch lists each give a
// one-line error and a non-zero exit — never a trap or a signal (they used to: an arithmetic
// overflow trap on a scribble's stroke width or a box's corners, a stack overflow on 100,000 `[`).
import Foundation
import Testing

@Suite struct ParserBoundsTests {
    static let model = "Tests/Fixtures/gar-tiny"
    static let frames = "Tests/Fixtures/images/f_video/frames"           // 4 frames, 160×120
    static let mask = "Tests/Fixtures/images/f_video/masks/region0_frame_000.png"

    static func file(_ dir: URL, _ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// The failure's one line (E2E.failure: non-zero exit by exit, not by signal, one stderr line).
    static func refused(_ args: [String], _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let e = try E2E.failure(args, sourceLocation: sourceLocation)
        #expect(e.contains(expected), "\(e)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        ("pos 9223372036854775807 10,10 20,20\n", "with WIDTH in 1...1000000"),                    // used to trap (r * r)
        ("pos 5 9223372036854775807,9223372036854775807 1,1\n", "is out of range"),
        ("neg 5 -9223372036854775808,5 9,9\npos 3 1,1\n", "is out of range"),
        ("pos 5 1,1 " + String(repeating: "x", count: 100) + "\n", "bad vertex"),
    ])
    func scribbleNumbers(text: String, expected: String) throws {
        let dir = E2E.tempDir("scribble")
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = try Self.file(dir, "s.txt", text)
        try Self.refused(["track", Self.frames, "--scribble", s, "--out", dir.appendingPathComponent("o").path, "--quiet"], expected)
    }

    @Test(arguments: [
        ["--box", "-9223372036854775808,0,9223372036854775807,5"],   // x2 - x1 + 1 used to trap
        ["--point", "9223372036854775807,5"],
    ])
    func promptFlagNumbers(prompt: [String]) throws {
        let dir = E2E.tempDir("boxes")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.refused(["track", Self.frames] + prompt + ["--out", dir.appendingPathComponent("o").path, "--quiet"], "is out of range")
    }

    /// Specs nested 100,000 deep (brackets, leading dashes, flow maps) crashed Yams with a stack
    /// overflow (SIGSEGV); a chain of anchors nests without brackets.
    @Test(arguments: [
        String(repeating: "[", count: 100_000),
        String(repeating: "- ", count: 50_000) + "x",
        "a:\r" + String(repeating: "- ", count: 50_000) + "x",                  // \r is a line break too
        "a: " + String(repeating: "{a: ", count: 50_000),
        String(repeating: " ", count: 10_000) + "a: 1",
        (0 ..< 40).map { "d\($0): &a\($0) [\($0 == 0 ? "x" : "*a\($0 - 1)")]" }.joined(separator: "\n"),
    ])
    func deeplyNestedSpec(text: String) throws {
        let dir = E2E.tempDir("deep-yaml")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = try Self.file(dir, "deep.yaml", text)
        let e = try E2E.failure(["batch", Self.frames, "--pipeline", spec, "--out", dir.appendingPathComponent("r.jsonl").path])
        #expect(e.contains("\(spec):") && (e.contains("nested deeper than 64 levels") || e.contains("more than 32 anchors")), "\(e)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("r.jsonl").path))
    }

    /// --shard auto: Slurm's task id minus its minimum used to trap on overflow.
    @Test func slurmShardNumbers() throws {
        let dir = E2E.tempDir("slurm")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try E2E.run(["batch", Self.frames, "--pipeline", "pipelines/temporal-qa.yaml", "--shard", "auto",
                             "--out", dir.appendingPathComponent("r.jsonl").path],
                            environment: ["SLURM_ARRAY_TASK_ID": "-9223372036854775808", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "2"])
        #expect(!r.signaled && r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1 && r.lastErrorLine.contains("is out of range"), "\(r.stderr)")
    }

    @Test func oversizedSpec() throws {
        let dir = E2E.tempDir("big-yaml")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = try Self.file(dir, "big.yaml", "version: 1\n" + String(repeating: "# padding\n", count: 200_000))
        try Self.refused(["batch", Self.frames, "--pipeline", spec, "--out", dir.appendingPathComponent("r.jsonl").path],
                         "\(spec): 2000011 bytes is too large for a pipeline spec (at most 1048576)")
    }

    @Test func deeplyNestedOverride() throws {
        let dir = E2E.tempDir("deep-set")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.refused(["batch", Self.frames, "--pipeline", "pipelines/temporal-qa.yaml", "--out", dir.appendingPathComponent("r.jsonl").path,
                          "--set", "questions=" + String(repeating: "[", count: 100_000)], "nested deeper than 64 levels")
    }

    /// Annotation JSON: runs far past the mask, a size no picture has, nesting 100,000 deep.
    @Test(arguments: [
        (#"[{"0": {"segmentation": {"size": [120, 160], "counts": [0, 9223372036854775807]}}}]"#, "run length 9223372036854775807 is more than"),
        (#"[{"0": {"segmentation": {"size": [120, 160], "counts": [9223372036854775807, 9223372036854775807]}}}]"#, "bad RLE"),
        (#"[{"0": {"segmentation": {"size": [9223372036854775807, 9223372036854775807], "counts": [1]}}}]"#, "is not a picture size"),
        (#"[{"0": {"segmentation": {"size": [120, 160], "counts": "zzzzzzzzzzzzzzzzzzzzzzzzzz"}}}]"#, "bad RLE"),
        (String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000), "not valid JSON"),
    ])
    func hostileAnnotation(json: String, expected: String) throws {
        let dir = E2E.tempDir("annotation")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try Self.file(dir, "a.json", json)
        try Self.refused(["ask", "--model", Self.model, "--frames-dir", Self.frames, "--annotation", a,
                          "--question", "What is <Prompt0>?", "--quiet"], expected)
    }

    /// PNG headers claiming a huge picture are refused before FFmpeg allocates it; a truncated
    /// PNG and a video given as a mask are errors too.
    @Test func hostileMaskImages() throws {
        let dir = E2E.tempDir("png")
        defer { try? FileManager.default.removeItem(at: dir) }
        func png(width: UInt32, height: UInt32) -> Data {
            var d = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13])
            d.append(contentsOf: Array("IHDR".utf8))
            for v in [width, height] { d.append(contentsOf: withUnsafeBytes(of: v.bigEndian, Array.init)) }
            d.append(contentsOf: [8, 0, 0, 0, 0, 0, 0, 0, 0])   // 8-bit gray, then a (wrong) CRC and nothing else
            return d
        }
        let cases: [(Data?, String, String)] = [
            (png(width: 0x7FFF_FFFF, height: 0x7FFF_FFFF), "huge.png", "the image is 2147483647x2147483647, more than the 67108864 pixels gar reads"),
            (png(width: 16000, height: 16000), "big.png", "the image is 16000x16000, more than the 67108864 pixels gar reads"),
            (try Data(contentsOf: E2E.root.appendingPathComponent(Self.mask)).prefix(60), "truncated.png", "cannot read image"),
            (nil, "samples/clips/h264.mkv", "not a still image"),
        ]
        for (data, name, expected) in cases {
            var path = name
            if let data {
                path = dir.appendingPathComponent(name).path
                try data.write(to: URL(fileURLWithPath: path))
            }
            try Self.refused(["track", Self.frames, "--mask", path, "--out", dir.appendingPathComponent("o").path, "--quiet"], expected)
            try Self.refused(["ask", "--model", Self.model, "--frames-dir", Self.frames, "--region", "mask=\(path)",
                              "--question", "What is <Prompt0>?", "--quiet"], expected)
        }
    }

    /// A batch list with a 2 MB line (or one nested 100,000 deep) is refused naming the line.
    @Test func hostileBatchList() throws {
        let dir = E2E.tempDir("items")
        defer { try? FileManager.default.removeItem(at: dir) }
        let long = try Self.file(dir, "long.jsonl", "{\"video\": \"a.mp4\"}\n{\"video\": \"" + String(repeating: "a", count: 2 << 20) + "\"}\n")
        try Self.refused(["batch", long, "--pipeline", "pipelines/temporal-qa.yaml", "--out", dir.appendingPathComponent("r.jsonl").path],
                         "\(long) line 2: \(13 + (2 << 20)) bytes is too long (at most 1048576 per line)")
        let deep = try Self.file(dir, "deep.jsonl", "{\"video\": " + String(repeating: "[", count: 100_000) + "}\n")
        try Self.refused(["batch", deep, "--pipeline", "pipelines/temporal-qa.yaml", "--out", dir.appendingPathComponent("r.jsonl").path],
                         "\(deep) line 1: not a JSON object")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("r.jsonl").path))
    }
}
