// Outputs never cost the user a file (issue 10 item 1), through the built binary: an output
// folder is written into, never replaced (`frames --out .` used to delete the current folder,
// the input video included); an output that is an input is refused before any work, however it
// is spelled; a symlinked output stays a symlink; a write error on stdout is an error.
import Foundation
import TestSupport
import Testing

@Suite(.serialized) struct OutputSafetyTests {
    static let model = "Tests/Fixtures/gar-tiny"
    static let clip = "samples/clips/ball.mp4"                      // 640×360
    static let mask = "samples/masks/ball_f0.png"
    static let frames = "Tests/Fixtures/images/f_video/frames"     // 4 frames, 160×120

    /// Runs `script` with /bin/sh in `directory`, `$GAR` naming the binary.
    static func sh(_ script: String, in directory: URL) throws -> E2E.Result {
        var env = ProcessInfo.processInfo.environment
        env["GAR"] = try #require(E2E.gar)
        let r = try ChildProcess.run("/bin/sh", ["-c", script], directory: directory, environment: env)
        return E2E.Result(status: r.status, stdout: String(decoding: r.stdout, as: UTF8.self), stderr: r.stderr)
    }

    /// A temporary folder holding copies of repository files (name → repository path).
    static func folder(_ tag: String, _ files: [String: String]) throws -> URL {
        let dir = E2E.tempDir(tag)
        for (name, source) in files {
            try FileManager.default.copyItem(at: E2E.root.appendingPathComponent(source), to: dir.appendingPathComponent(name))
        }
        return dir
    }

    static func bytes(_ url: URL) -> Data? { FileManager.default.contents(atPath: url.path) }

    // MARK: folders are written into, never replaced

    /// The headline of issue 10: `gar frames v.mp4 --count 2 --out .` deleted the current folder.
    @Test func framesIntoTheCurrentFolderKeepsEverything() throws {
        let dir = try Self.folder("dot", ["clip.mp4": Self.clip])
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("my notes".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        let video = try #require(Self.bytes(dir.appendingPathComponent("clip.mp4")))
        let r = try Self.sh("\"$GAR\" frames clip.mp4 --count 2 --out . --quiet", in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.bytes(dir.appendingPathComponent("clip.mp4")) == video, "the input video survives, unchanged")
        #expect(Self.bytes(dir.appendingPathComponent("notes.txt")) == Data("my notes".utf8), "another file survives")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names == ["000000.png", "000050.png", "clip.mp4", "frames.json", "notes.txt"], "\(names)")
    }

    /// `gar track v.mp4 --mask m.png --out DIR` with DIR holding the inputs: they survive.
    @Test func trackIntoTheFolderOfItsInputs() throws {
        let dir = try Self.folder("trackdir", ["v.mp4": Self.clip, "m.png": Self.mask])
        defer { try? FileManager.default.removeItem(at: dir) }
        let video = try #require(Self.bytes(dir.appendingPathComponent("v.mp4")))
        let mask = try #require(Self.bytes(dir.appendingPathComponent("m.png")))
        let r = try E2E.run(["track", dir.appendingPathComponent("v.mp4").path, "--mask", dir.appendingPathComponent("m.png").path,
                             "--count", "3", "--no-overlay", "--out", dir.path, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.bytes(dir.appendingPathComponent("v.mp4")) == video && Self.bytes(dir.appendingPathComponent("m.png")) == mask)
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
        #expect(names == ["v.mp4", "m.png", "masks", "masks.json", "contact_sheet.png"], "\(names)")
    }

    /// An existing folder: unrelated files stay, a file of a name gar writes is replaced.
    @Test func existingFolderKeepsUnrelatedFiles() throws {
        let dir = E2E.tempDir("existing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: out.appendingPathComponent("keep.txt"))
        try Data("keep".utf8).write(to: out.appendingPathComponent("sub/keep.txt"))
        try Data("old".utf8).write(to: out.appendingPathComponent("frames.json"))
        let r = try E2E.run(["frames", Self.frames, "--indices", "1,3", "--out", out.path, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.bytes(out.appendingPathComponent("keep.txt")) == Data("keep".utf8))
        #expect(Self.bytes(out.appendingPathComponent("sub/keep.txt")) == Data("keep".utf8))
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("frames.json"))) as? [String: Any])
        #expect((manifest["frames"] as? [Any])?.count == 2, "frames.json replaced by this run's")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: out.path)) == ["000001.png", "000003.png", "frames.json", "keep.txt", "sub"])
    }

    /// A failed run into a folder it had to create leaves no folder (and no staging folder).
    @Test func failedRunRemovesOnlyWhatItWrote() throws {
        let dir = E2E.tempDir("failed")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("keep".utf8).write(to: dir.appendingPathComponent("keep.txt"))
        let r = try E2E.run(["frames", "samples/bad/corrupt.mp4", "--every", "10", "--out", dir.appendingPathComponent("new/out").path, "--quiet"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["keep.txt"])
        let r2 = try E2E.run(["frames", "samples/bad/corrupt.mp4", "--every", "10", "--out", dir.path, "--quiet"])
        #expect(r2.status == 1, "\(r2.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["keep.txt"], "an existing folder is left as it was")
    }

    // MARK: an output that is an input

    /// Each output flag naming an input — directly, through a symlink, or as `./x/../x` — is
    /// refused before any work (exit 64, one line), and the input is byte-identical afterwards.
    @Test(arguments: ["direct", "symlink", "dotdot"])
    func outputEqualToAnInputIsRefused(spelling: String) throws {
        let dir = try Self.folder("same", ["v.mp4": Self.clip, "m.png": Self.mask, "spec.yaml": "pipelines/temporal-qa.yaml"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        let part = dir.appendingPathComponent("part.jsonl"), items = dir.appendingPathComponent("items.txt")
        try Data("{\"id\":\"a\",\"status\":\"ok\"}\n".utf8).write(to: part)
        try Data((dir.appendingPathComponent("v.mp4").path + "\n").utf8).write(to: items)
        try fm.createDirectory(at: dir.appendingPathComponent("x"), withIntermediateDirectories: true)
        /// `name` (a file in dir) as the output path, spelled as this case says.
        func spell(_ name: String) throws -> String {
            switch spelling {
            case "symlink":
                let link = dir.appendingPathComponent("link-\(name)")
                if !fm.fileExists(atPath: link.path) { try fm.createSymbolicLink(atPath: link.path, withDestinationPath: name) }
                return link.path
            case "dotdot": return dir.path + "/x/../" + name
            default: return dir.appendingPathComponent(name).path
            }
        }
        let v = dir.appendingPathComponent("v.mp4").path, m = dir.appendingPathComponent("m.png").path
        let cases: [(args: [String], input: String)] = [
            (["probe", v, "--output", try spell("v.mp4")], "v.mp4"),
            (["probe", v, "-o", try spell("v.mp4")], "v.mp4"),
            (["bench", "decode", v, "-o", try spell("v.mp4")], "v.mp4"),
            (["caption", v, "--model", Self.model, "--mask", m, "--output", try spell("m.png")], "m.png"),
            (["caption", v, "--model", Self.model, "--mask", m, "--overlay", try spell("v.mp4")], "v.mp4"),
            (["ask", v, "--model", Self.model, "--region", "mask=\(m)", "--question", "What is <Prompt0>?", "--output", try spell("v.mp4")], "v.mp4"),
            (["run", dir.appendingPathComponent("spec.yaml").path, "--video", v, "--model", Self.model, "--region", "mask=\(m)",
              "--output", try spell("spec.yaml")], "spec.yaml"),
            (["batch", "merge", "--out", try spell("part.jsonl"), part.path], "part.jsonl"),
            (["batch", items.path, "--pipeline", dir.appendingPathComponent("spec.yaml").path, "--out", try spell("items.txt")], "items.txt"),
        ]
        for (args, input) in cases {
            let before = try #require(Self.bytes(dir.appendingPathComponent(input)))
            let r = try E2E.run(args)
            #expect(r.status == 64, "\(args.prefix(2)): \(r.stderr)")
            #expect(r.stderr.hasPrefix("error: ") && r.stderr.contains("is also an input") && r.stderr.split(separator: "\n").count == 1, "\(args.prefix(2)): \(r.stderr)")
            #expect(r.stdout.isEmpty)
            #expect(Self.bytes(dir.appendingPathComponent(input)) == before, "\(args.prefix(2)): \(input) unchanged")
        }
        let names = try fm.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix("link-") }.sorted()
        #expect(names == ["items.txt", "m.png", "part.jsonl", "spec.yaml", "v.mp4", "x"], "nothing written: \(names)")
    }

    /// Output folders: the input folder itself, or one where gar would write an input's name.
    @Test func outputFolderThatIsAnInputIsRefused() throws {
        let dir = try Self.folder("samefolder", ["frames": Self.frames])
        defer { try? FileManager.default.removeItem(at: dir) }
        let frames = dir.appendingPathComponent("frames")
        let before = try FileManager.default.contentsOfDirectory(atPath: frames.path).sorted()
        var r = try E2E.run(["frames", frames.path, "--count", "2", "--out", frames.path + "/.", "--quiet"])
        #expect(r.status == 64 && r.stderr.hasPrefix("error: --out \(frames.path)/.: is also an input folder"), "\(r.stderr)")
        r = try E2E.run(["track", frames.path, "--mask", E2E.root.appendingPathComponent("Tests/Fixtures/images/f_video/masks/region0_frame_000.png").path,
                         "--out", frames.path, "--quiet"])
        #expect(r.status == 64 && r.stderr.contains("is also an input folder"), "\(r.stderr)")
        // A mask whose name is one gar track writes, inside the output folder.
        let m = dir.appendingPathComponent("contact_sheet.png")
        try FileManager.default.copyItem(at: E2E.root.appendingPathComponent("Tests/Fixtures/images/f_video/masks/region0_frame_000.png"), to: m)
        r = try E2E.run(["track", frames.path, "--mask", m.path, "--out", dir.path, "--quiet"])
        #expect(r.status == 64 && r.stderr.contains("gar would write contact_sheet.png there, which is an input"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: frames.path).sorted() == before)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) == ["frames", "contact_sheet.png"])
    }

    /// --output and --overlay naming one file; eval-track --save naming the annotations it
    /// scores against (its PNGs carry their names).
    @Test func outputsThatCollideAreRefused() throws {
        let dir = E2E.tempDir("collide")
        defer { try? FileManager.default.removeItem(at: dir) }
        let same = dir.appendingPathComponent("a.mp4").path
        var r = try E2E.run(["caption", Self.clip, "--model", Self.model, "--mask", Self.mask, "--output", same, "--overlay", dir.path + "/./a.mp4"])
        #expect(r.status == 64 && r.stderr == "error: --output and --overlay name the same file (\(same))\n", "\(r.stderr)")
        let annotations = dir.appendingPathComponent("davis/Annotations/480p/seq")
        try FileManager.default.createDirectory(at: annotations, withIntermediateDirectories: true)
        try Data("truth".utf8).write(to: annotations.appendingPathComponent("00000.png"))
        r = try E2E.run(["eval-track", dir.appendingPathComponent("davis").path, "--save", dir.appendingPathComponent("davis/Annotations/480p").path, "--quiet"])
        #expect(r.status == 64 && r.stderr.contains("is also an input folder"), "\(r.stderr)")
        #expect(Self.bytes(annotations.appendingPathComponent("00000.png")) == Data("truth".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["davis"])
    }

    /// ask on an image ignored --output (nothing written, exit 0); now it writes the JSON answer.
    @Test func askOnAnImageWritesItsOutput() throws {
        let dir = E2E.tempDir("askimage")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("answer.json")
        let r = try E2E.run(["ask", "--model", Self.model, "--image", "\(Self.frames)/frame_000.png", "--mask", "Tests/Fixtures/images/f_video/masks/region0_frame_000.png",
                             "--question", "What is <Prompt0>?", "--max-new-tokens", "2", "--output", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as? [String: Any])
        #expect(json["text"] is String)
    }

    // MARK: what the user's path is

    /// An output path that is a symlink stays a symlink (its target is replaced), and a
    /// replaced file keeps its permissions.
    @Test func symlinkedOutputStaysASymlink() throws {
        let dir = E2E.tempDir("symlink")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        let real = dir.appendingPathComponent("real.json"), link = dir.appendingPathComponent("link.json")
        try Data("old".utf8).write(to: real)
        chmod(real.path, 0o640)
        try fm.createSymbolicLink(atPath: link.path, withDestinationPath: "real.json")
        let r = try E2E.run(["probe", Self.clip, "--output", link.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect((try? fm.destinationOfSymbolicLink(atPath: link.path)) == "real.json", "still a symlink")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: real)) as? [String: Any])
        #expect(!json.isEmpty, "the target holds the report")
        #expect(((try fm.attributesOfItem(atPath: real.path))[.posixPermissions] as? NSNumber)?.intValue == 0o640, "permissions kept")
        #expect(Set(try fm.contentsOfDirectory(atPath: dir.path)) == ["real.json", "link.json"], "no temporary left")
    }

    // MARK: stdout

    /// A full disk or a closed stdout is an error (exit 1, one line), not a silent exit 0.
    @Test func stdoutWriteErrorsFail() throws {
        var r = try Self.sh("\"$GAR\" probe \(Self.clip) > /dev/full", in: E2E.root)
        #expect(r.status == 1 && r.stderr == "error: cannot write to stdout: No space left on device\n", "\(r.stderr)")
        r = try Self.sh("\"$GAR\" probe \(Self.clip) >&-", in: E2E.root)
        #expect(r.status == 1 && r.stderr.hasPrefix("error: cannot write to stdout: "), "\(r.stderr)")
        r = try Self.sh("\"$GAR\" tokenize --model \(Self.model) --text hello > /dev/full", in: E2E.root)
        #expect(r.status == 1 && r.stderr.hasPrefix("error: cannot write to stdout: "), "\(r.stderr)")
        // With --output nothing goes to stdout: a closed stdout is no error, and the file is whole.
        let dir = E2E.tempDir("closed")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("p.json").path
        r = try Self.sh("\"$GAR\" probe \(Self.clip) -o \(out) >&-", in: E2E.root)
        #expect(r.status == 0, "\(r.stderr)")
        #expect((try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out)))) != nil)
    }
}
