// End-to-end checks of `gar probe` and `gar frames` through the built binary: JSON output, the
// frames folder, and every bad input (one line naming the file, non-zero exit, no output left).
import Foundation
import Testing

@Suite(.serialized) struct VideoCLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func sample(_ p: String) -> String { root.appendingPathComponent("samples/\(p)").path }

    @Test func probePrintsJSON() throws {
        let r = try E2E.run(["probe", Self.sample("clips/hevc10.mkv"), "--count-frames"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["codec"] as? String == "hevc")
        #expect(json["profile"] as? String == "Main 10")
        #expect(json["pixel_format"] as? String == "yuv420p10le")
        #expect(json["bit_depth"] as? Int == 10)
        #expect(json["frame_count"] as? Int == 50)
        #expect(json["width"] as? Int == 320 && json["height"] as? Int == 240)
        #expect(json["fps"] as? Double == 25)
        let rot = try E2E.run(["probe", Self.sample("clips/rotated90.mp4")])
        let rj = try #require(try JSONSerialization.jsonObject(with: Data(rot.stdout.utf8)) as? [String: Any])
        #expect(rj["rotation"] as? Double == 90 && rj["width"] as? Int == 240 && rj["coded_width"] as? Int == 320)
        #expect(rj["frame_count"] == nil, "no count without --count-frames")
    }

    @Test func framesWritesPNGsAndManifest() throws {
        let dir = E2E.tempDir("cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("frames").path
        let r = try E2E.run(["frames", Self.sample("clips/barcode.mp4"), "--count", "5", "--start", "2", "--end", "10",
                              "--max-side", "160", "--out", out, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/frames.json"))) as? [String: Any])
        let frames = try #require(manifest["frames"] as? [[String: Any]])
        // Window 2..10 s = frames 50...250 (201 frames); PLM rule: arange(0, 201, 40.2) -> 0, 40, 80, 120, 160.
        #expect(frames.compactMap { $0["index"] as? Int } == [50, 90, 130, 170, 210])
        #expect(frames.compactMap { $0["file"] as? String } == ["000050.png", "000090.png", "000130.png", "000170.png", "000210.png"])
        #expect(frames.compactMap { $0["pts"] as? Double } == [2.0, 3.6, 5.2, 6.8, 8.4])
        #expect(frames.allSatisfy { $0["width"] as? Int == 160 && $0["height"] as? Int == 120 })
        #expect(manifest["policy"] as? String == "uniform(count: 5, rule: plm)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(names == ["000050.png", "000090.png", "000130.png", "000170.png", "000210.png", "frames.json"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["frames"], "no temp dirs left")
    }

    @Test func framesFromAFolderAndByTime() throws {
        let dir = E2E.tempDir("cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try E2E.run(["frames", Self.sample("frames/png_seq"), "--times", "0.1,0.41", "--folder-fps", "10",
                              "--out", dir.appendingPathComponent("a").path, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("a").path).sorted()
                == ["000001.png", "000004.png", "frames.json"])
    }

    /// Every bad input: exit 1, one stderr line naming the input and the cause, and the output
    /// folder untouched (a pre-existing one keeps its content; no temp dirs left).
    @Test(arguments: [
        (["bad/does_not_exist.mp4"], "no such file"),
        (["bad"], "no .png/.jpg/.jpeg frames"),
        (["bad/not_video.mp4"], "not a readable video"),
        (["bad/empty.mp4"], "empty"),
        (["bad/audio_only.m4a"], "no video stream"),
        (["bad/truncated_no_moov.mp4"], "not a readable video"),
        (["bad/truncated.mp4", "--indices", "3,200"], "stream ended after 117 decodable frames, frame 200"),
        (["bad/corrupt.mp4", "--every", "10"], "could not be decoded"),
        (["clips/ball.mp4", "--indices", "99,100"], "frame index 100 is past the end"),
        (["clips/ball.mp4", "--times", "4.5"], "past the end"),
        (["clips/ball.mp4", "--count", "3", "--every", "2"], "only one of"),
        (["clips/ball.mp4", "--size", "0x10"], "--size"),
        (["clips/ball.mp4", "--start", "9", "--end", "12"], "no frame lies in the window"),
    ])
    func badInputs(args: [String], cause: String) throws {
        let dir = E2E.tempDir("cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: out.appendingPathComponent("marker.txt"))
        let input = Self.sample(args[0])
        let r = try E2E.run(["frames", input] + args.dropFirst() + ["--out", out.path, "--quiet"])
        let usage = cause.hasPrefix("only") || cause.hasPrefix("--size")   // command-line mistakes
        #expect(r.status == (usage ? 64 : 1))
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains(cause), "stderr: \(r.stderr)")
        if !cause.hasPrefix("only") && !cause.hasPrefix("--size") { #expect(r.stderr.contains(input), "stderr names the input: \(r.stderr)") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["marker.txt"], "output untouched")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out"], "no temp dirs left")
    }

    @Test func probeBadInputs() throws {
        for (name, cause) in [("bad/empty.mp4", "empty"), ("clips", "is a directory"), ("bad/audio_only.m4a", "no video stream")] {
            let r = try E2E.run(["probe", Self.sample(name)])
            #expect(r.status == 1 && r.stdout.isEmpty)
            #expect(r.stderr.contains(Self.sample(name)) && r.stderr.contains(cause) && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        }
    }

    @Test func allowPartialKeepsTheDecodableFrames() throws {
        let dir = E2E.tempDir("cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        let r = try E2E.run(["frames", Self.sample("bad/corrupt.mp4"), "--every", "10", "--allow-partial", "--out", out, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/frames.json"))) as? [String: Any])
        let missing = try #require(manifest["missing_frames"] as? [Int])
        let frames = try #require(manifest["frames"] as? [[String: Any]])
        #expect(!missing.isEmpty && frames.count + missing.count == 30)
        #expect((manifest["warnings"] as? [String])?.isEmpty == false)
    }

    /// The benchmark runs end to end on a small clip (smoke test only: no timing is checked).
    @Test func benchDecodeRuns() throws {
        let r = try E2E.run(["bench", "decode", Self.sample("clips/h264.mkv"), "--reps", "1", "--samples", "2", "--threads", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        for row in ["ffmpeg decode", "gar decode", "ffmpeg decode+rgb", "gar decode+rgb", "gar sample 2", "ffmpeg sample 2"] {
            #expect(r.stdout.contains("| \(row) |"), "missing row \(row)")
        }
        #expect(r.stdout.contains("decode throughput gar / ffmpeg"))
    }
}
