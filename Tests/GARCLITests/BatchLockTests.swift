// One writer per results file, through the binary: a second `gar batch` (or a `--resume`, or a
// `merge --out`) on a results file a live run holds is refused at once naming the holder's pid,
// and the live run finishes with every item exactly once; `--resume` refuses a results file made
// with another pipeline (other --set values) and continues one made with the same.
import Foundation
import Testing

@Suite(.serialized) struct BatchLockTests {
    static let model = "Tests/Fixtures/gar-tiny"
    static let spec = "pipelines/temporal-qa.yaml"

    /// A folder of `count` small frame-folder items, each with its annotation side file.
    static func items(_ dir: URL, count: Int) throws -> String {
        let fm = FileManager.default
        let folder = dir.appendingPathComponent("videos")
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        let frames = E2E.root.appendingPathComponent("Tests/Fixtures/images/f_video/frames")
        let annotation = E2E.root.appendingPathComponent("Tests/Fixtures/images/f_video/annotation.json")
        for i in 0 ..< count {
            let name = String(format: "clip%02d", i)
            try fm.copyItem(at: frames, to: folder.appendingPathComponent(name))
            try fm.copyItem(at: annotation, to: folder.appendingPathComponent("\(name).annotation.json"))
        }
        return folder.path
    }

    static func batchArgs(_ items: String, _ out: String, _ extra: [String] = []) -> [String] {
        ["batch", items, "--pipeline", spec, "--model", model, "--out", out, "--quiet"] + extra
    }

    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    static func ids(_ path: String) throws -> [String] {
        try lines(path).map { line in
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return try #require(o["id"] as? String)
        }
    }

    @Test func secondRunOnALiveResultsFileIsRefused() throws {
        let dir = E2E.tempDir("batch-lock")
        defer { try? FileManager.default.removeItem(at: dir) }
        let count = 12
        let items = try Self.items(dir, count: count)
        let out = dir.appendingPathComponent("results.jsonl").path

        // The first run, in the background.
        let first = Process()
        first.executableURL = URL(fileURLWithPath: try #require(E2E.gar))
        first.arguments = Self.batchArgs(items, out)
        first.currentDirectoryURL = E2E.root
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        defer { if first.isRunning { first.terminate() } }
        // Wait until it has finished an item (it holds the file and has items left).
        let deadline = Date().addingTimeInterval(120)
        while Self.lines(out).isEmpty && first.isRunning && Date() < deadline { usleep(20_000) }
        try #require(first.isRunning && !Self.lines(out).isEmpty, "the first run did not start writing")

        let holder = "pid \(first.processIdentifier)"
        for extra in [[], ["--resume"]] {
            let r = try E2E.run(Self.batchArgs(items, out, extra))
            #expect(!r.signaled && r.status == 1, "\(extra): \(r.status) \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
            #expect(r.lastErrorLine.hasSuffix("\(out): in use by another gar run (\(holder)); wait for it to finish, or write to another file"),
                    "\(r.lastErrorLine)")
        }
        // merge must not replace it either.
        let part = dir.appendingPathComponent("part.jsonl")
        try Data("{\"id\":\"x\",\"status\":\"ok\"}\n".utf8).write(to: part)
        let m = try E2E.run(["batch", "merge", "--out", out, part.path])
        #expect(!m.signaled && m.status == 1 && m.lastErrorLine.contains("in use by another gar run (\(holder))"), "\(m.stderr)")

        first.waitUntilExit()
        #expect(first.terminationReason == .exit && first.terminationStatus == 0)
        let ids = try Self.ids(out)
        #expect(ids.count == count && Set(ids).count == count, "every item exactly once: \(ids)")
        #expect(Self.lines(out).allSatisfy { $0.contains("\"status\":\"ok\"") })

        // Now that it is done, its lock is gone: resume works (and finds nothing left to do).
        let r = try E2E.run(Self.batchArgs(items, out, ["--resume"]))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try r.json()["skipped"] as? Int == count)
    }

    @Test func resumeRefusesAnotherPipelineAndContinuesTheSame() throws {
        let dir = E2E.tempDir("batch-resume")
        defer { try? FileManager.default.removeItem(at: dir) }
        let items = try Self.items(dir, count: 3)
        let out = dir.appendingPathComponent("results.jsonl").path
        let setting = ["--set", "generation.max_new_tokens=4"]
        let r0 = try E2E.run(Self.batchArgs(items, out, setting))
        #expect(r0.status == 0, "\(r0.stderr)")
        // An interrupted run: the last item is missing.
        var lines = Self.lines(out)
        #expect(lines.count == 3 && lines.allSatisfy { $0.contains("\"spec_overrides\":[\"generation.max_new_tokens=4\"]") })
        lines.removeLast()
        let interrupted = lines.joined(separator: "\n") + "\n"
        try interrupted.write(toFile: out, atomically: true, encoding: .utf8)

        for other in [["--set", "generation.max_new_tokens=5"], [] as [String]] {
            let r = try E2E.run(Self.batchArgs(items, out, ["--resume"] + other))
            #expect(!r.signaled && r.status != 0, "\(other): \(r.stdout)")
            #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
            #expect(r.lastErrorLine.contains("\(out): --resume with another pipeline: its finished items were made with spec ")
                    && r.lastErrorLine.contains("and --set generation.max_new_tokens=4, this run has spec "), "\(r.lastErrorLine)")
            #expect(try String(contentsOfFile: out, encoding: .utf8) == interrupted, "a refused resume leaves the file as it was")
        }

        let r = try E2E.run(Self.batchArgs(items, out, ["--resume"] + setting))
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try r.json()
        #expect(summary["skipped"] as? Int == 2 && summary["ok"] as? Int == 1, "\(summary)")
        #expect(try Self.ids(out) == ["clip00", "clip01", "clip02"])
    }

    /// A lock held by another process (here: this test process) is named by its pid, and the
    /// file is left untouched.
    @Test func aLockHeldElsewhereIsNamed() throws {
        let dir = E2E.tempDir("batch-held")
        defer { try? FileManager.default.removeItem(at: dir) }
        let items = try Self.items(dir, count: 1)
        let out = dir.appendingPathComponent("results.jsonl").path
        try Data().write(to: URL(fileURLWithPath: out))
        let fd = open(out, O_RDONLY)
        try #require(fd >= 0 && flock(fd, LOCK_EX) == 0)
        defer { close(fd) }
        let r = try E2E.run(Self.batchArgs(items, out))
        #expect(!r.signaled && r.status == 1)
        #expect(r.lastErrorLine.hasSuffix("\(out): in use by another gar run (pid \(getpid())); wait for it to finish, or write to another file"),
                "\(r.lastErrorLine)")
        #expect(Self.lines(out).isEmpty)
    }
}
