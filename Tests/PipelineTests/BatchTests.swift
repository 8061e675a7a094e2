// gar batch: item discovery (folders with side files, lists), shards, the JSONL ledger (append,
// cut partial lines, resume, merge), and a batch end to end with a bad video in it.
import Foundation
import Testing
@testable import Pipeline

@Suite(.serialized) struct BatchTests {
    static let model = Repo.path("Tests/Fixtures/gar-tiny")

    static func write(_ text: String, _ url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// A folder: a frame folder with an annotation, a "video" that is not one, and a real clip
    /// without regions; plus ignored files.
    static func makeFolder(_ dir: URL) throws {
        let fm = FileManager.default
        try fm.copyItem(atPath: Repo.path("Tests/Fixtures/images/f_video/frames"), toPath: dir.appendingPathComponent("shapes").path)
        try fm.copyItem(atPath: Repo.path("Tests/Fixtures/images/f_video/annotation.json"), toPath: dir.appendingPathComponent("shapes.annotation.json").path)
        try write("What does <Prompt0> do?\n# a comment\nWhere is <Prompt1>?\n", dir.appendingPathComponent("shapes.questions"))
        try fm.copyItem(atPath: Repo.path("samples/bad/not_video.mp4"), toPath: dir.appendingPathComponent("broken.mp4").path)
        try write("box=1,1,20,20\n", dir.appendingPathComponent("broken.regions"))
        try fm.copyItem(atPath: Repo.path("samples/clips/h263.3gp"), toPath: dir.appendingPathComponent("noregions.3gp").path)
        try write("notes", dir.appendingPathComponent("README.txt"))
        try fm.createDirectory(at: dir.appendingPathComponent("empty"), withIntermediateDirectories: true)
    }

    @Test func folderItemsAndSideFiles() throws {
        let dir = Repo.tempDir("batch-items")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.makeFolder(dir)
        let items = try BatchItems.discover(dir.path)
        #expect(items.map(\.id) == ["broken.mp4", "noregions.3gp", "shapes"])
        #expect(items[0].regions == ["box=1,1,20,20"] && items[0].annotation == nil)
        #expect(items[1].regions.isEmpty && items[1].annotation == nil && items[1].questions == nil)
        #expect(items[2].annotation == dir.appendingPathComponent("shapes.annotation.json").path)
        #expect(items[2].questions == ["What does <Prompt0> do?", "Where is <Prompt1>?"])
    }

    @Test func listItems() throws {
        let dir = Repo.tempDir("batch-list")
        defer { try? FileManager.default.removeItem(at: dir) }
        let jsonl = dir.appendingPathComponent("items.jsonl")
        try Self.write("""
            {"id": "a", "video": "clips/a.mp4", "regions": ["mask=m/a.png frame=3", "box=1,2,3,4"]}
            # comment
            {"video": "/abs/b.mp4", "annotation": "b.json", "questions": ["Q?"]}

            """, jsonl)
        let items = try BatchItems.discover(jsonl.path)
        #expect(items.map(\.id) == ["/abs/b.mp4", "a"])
        #expect(items[1].input == dir.appendingPathComponent("clips/a.mp4").path)
        #expect(items[1].regions == ["mask=\(dir.appendingPathComponent("m/a.png").path) frame=3", "box=1,2,3,4"])
        #expect(items[0].input == "/abs/b.mp4" && items[0].annotation == dir.appendingPathComponent("b.json").path && items[0].questions == ["Q?"])
        try Self.write("{\"video\": \"a.mp4\", \"region\": []}\n", jsonl)   // a bad field: that item's error, not the list's
        #expect(try BatchItems.discover(jsonl.path).map { $0.problem?.description } == ["\(jsonl.path) line 1: unknown key 'region' (expected: id, video, regions, annotation, questions)"])
        try Self.write("{\"video\": \"a.mp4\"}\n{\"video\": \"a.mp4\"}\n", jsonl)
        #expect(throws: PipelineError.self) { try BatchItems.discover(jsonl.path) }   // duplicate id
        let txt = dir.appendingPathComponent("list.txt")
        try Self.write("x.mp4\ny.mkv\n", txt)
        try Self.write("point=5,5\n", dir.appendingPathComponent("x.regions"))
        let t = try BatchItems.discover(txt.path)
        #expect(t.map(\.id) == ["x.mp4", "y.mkv"] && t[0].regions == ["point=5,5"] && t[1].regions.isEmpty)
    }

    @Test func shards() throws {
        #expect(try Shard.parse("1/4") == Shard(index: 1, count: 4))
        for bad in ["4/4", "-1/2", "1", "a/b", "0/0"] { #expect(throws: PipelineError.self) { try Shard.parse(bad) } }
        #expect(try Shard.parse("auto", environment: ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "4", "SLURM_ARRAY_TASK_COUNT": "3"])
            == Shard(index: 1, count: 3))
        #expect(try Shard.parse("auto", environment: ["JOB_COMPLETION_INDEX": "2", "GAR_SHARDS": "8"]) == Shard(index: 2, count: 8))
        #expect(throws: PipelineError.self) { try Shard.parse("auto", environment: ["JOB_COMPLETION_INDEX": "2"]) }
        #expect(throws: PipelineError.self) { try Shard.parse("auto", environment: [:]) }
        // Shards partition the items: each exactly once.
        let items = Array(0 ..< 11)
        var seen: [Int] = []
        for i in 0 ..< 3 { seen += try Shard(index: i, count: 3).select(items) }
        #expect(seen.sorted() == items)
        #expect(try Shard(index: 1, count: 3).select(items) == [1, 4, 7, 10])
    }

    @Test func ledgerAppendResumeAndMerge() throws {
        let dir = Repo.tempDir("ledger")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("r.jsonl").path
        do {
            let l = try JSONLLedger(path: path, resume: false)
            try l.append(id: "a", status: "ok", json: Data(#"{"id":"a","status":"ok","v":1}"#.utf8))
            try l.append(id: "b", status: "error", json: Data(#"{"id":"b","status":"error"}"#.utf8))
        }
        #expect(throws: PipelineError.self) { try JSONLLedger(path: path, resume: false) }
        // A crash in the middle of a line: resume cuts it.
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.seekToEnd()
        try h.write(contentsOf: Data(#"{"id":"c","sta"#.utf8))
        try h.close()
        let l = try JSONLLedger(path: path, resume: true)
        #expect(l.finished == ["a"] && l.failed == ["b"])
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasSuffix("\"status\":\"error\"}\n"))
        try l.append(id: "b", status: "ok", json: Data(#"{"id":"b","status":"ok"}"#.utf8))
        #expect(l.finished == ["a", "b"] && l.failed.isEmpty)
        // Merge: per id the last ok wins over a later error; sorted by id.
        let other = dir.appendingPathComponent("s.jsonl").path
        try Self.write(#"{"id":"a","status":"error"}"# + "\n" + #"{"id":"0","status":"error","x":1}"# + "\n", URL(fileURLWithPath: other))
        let merged = dir.appendingPathComponent("all.jsonl").path
        let counts = try JSONLLedger.merge([path, other], into: merged)
        #expect(counts.ok == 2 && counts.failed == 1)
        let lines = try String(contentsOfFile: merged, encoding: .utf8).split(separator: "\n")
        #expect(lines == [#"{"id":"0","status":"error","x":1}"#, #"{"id":"a","status":"ok","v":1}"#, #"{"id":"b","status":"ok"}"#])
        // A complete line that is not a record is an error naming the line.
        try Self.write("not json\n", URL(fileURLWithPath: other))
        #expect(throws: PipelineError.self) { try JSONLLedger.readRecords(path: other) }
    }

    /// A batch over a folder: bad items become error lines and never stop it; resume retries only
    /// the failed ones; two shards merged give the same ids as the whole batch.
    @Test func batchEndToEnd() throws {
        let dir = Repo.tempDir("batch-run")
        defer { try? FileManager.default.removeItem(at: dir) }
        let videos = dir.appendingPathComponent("videos")
        try Self.makeFolder(videos)
        var spec = PipelineSpec.builtIn(.temporalQA)
        spec.generation.maxNewTokens = 2
        let out = dir.appendingPathComponent("results.jsonl").path
        var o = BatchOptions(items: videos.path, spec: spec, out: out)
        o.modelDirectory = Self.model
        o.quiet = true
        let engine = try VideoRegionEngine(modelDirectory: Self.model)
        let s = try BatchJob.run(o, engine: engine)
        #expect(s.items == 3 && s.ok == 1 && s.failed == 2 && s.skipped == 0)
        var records = try JSONLLedger.readRecords(path: out)
        #expect(records.map(\.id) == ["broken.mp4", "noregions.3gp", "shapes"])
        #expect(records.map(\.status) == ["error", "error", "ok"])
        #expect((records[0].object["error"] as? String)?.hasPrefix(videos.appendingPathComponent("broken.mp4").path + ": ") == true)
        #expect((records[1].object["error"] as? String)?.contains("no regions") == true)
        let result = try #require(records[2].object["result"] as? [String: Any])
        #expect(result["schema"] as? String == "gar-video-answer-1")
        #expect((result["answers"] as? [[String: Any]])?.map { $0["question"] as? String } == ["What does <Prompt0> do?", "Where is <Prompt1>?"])
        #expect((result["answers"] as? [[String: Any]])?.map { $0["frames_encoded"] as? Int } == [4, 0])
        // Fix one bad item, resume: only the failed ones run again.
        try Self.write("mask=\(Repo.path("samples/masks/ball_f0.png"))\n", videos.appendingPathComponent("noregions.regions"))
        o.resume = true
        let before = engine.session.tilesEncodedTotal
        let r = try BatchJob.run(o, engine: engine)
        #expect(r.skipped == 1 && r.failed == 2 && r.ok == 0)
        #expect(engine.session.tilesEncodedTotal == before, "the finished item was not run again")
        records = try JSONLLedger.readRecords(path: out)
        #expect(records.count == 5)
        #expect((records[4].object["error"] as? String)?.contains("does not match the video frames") == true)
        // Shards 0/2 and 1/2, merged, hold every item once.
        var parts: [String] = []
        for i in 0 ..< 2 {
            var p = BatchOptions(items: videos.path, spec: spec, out: dir.appendingPathComponent("part\(i).jsonl").path)
            p.shard = try Shard(index: i, count: 2)
            p.quiet = true
            let sum = try BatchJob.run(p, engine: engine)
            #expect(sum.shardItems == (i == 0 ? 2 : 1))
            parts.append(p.out)
        }
        let all = dir.appendingPathComponent("all.jsonl").path
        let counts = try JSONLLedger.merge(parts, into: all)
        #expect(counts.ok == 1 && counts.failed == 2)
        #expect(try JSONLLedger.readRecords(path: all).map(\.id) == ["broken.mp4", "noregions.3gp", "shapes"])
    }

    @Test func modelThatCannotLoadStopsTheBatch() throws {
        let dir = Repo.tempDir("batch-model")
        defer { try? FileManager.default.removeItem(at: dir) }
        let videos = dir.appendingPathComponent("videos")
        try Self.makeFolder(videos)
        var o = BatchOptions(items: videos.path, spec: PipelineSpec.builtIn(.temporalQA), out: dir.appendingPathComponent("r.jsonl").path)
        o.modelDirectory = dir.appendingPathComponent("no-model").path
        o.quiet = true
        #expect(throws: (any Error).self) { try BatchJob.run(o) }
        let lines = (try? String(contentsOfFile: o.out, encoding: .utf8)) ?? ""
        #expect(lines.isEmpty, "no item line is written when the model cannot load")
    }
}
