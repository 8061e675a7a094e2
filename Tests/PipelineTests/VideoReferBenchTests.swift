// VideoRefer-Bench-Q: the official letter rule and scoring against the numbers the Python
// re-implementation of eval_videorefer_bench_q.py wrote for fixed predictions
// (Tests/Fixtures/videorefer/make_videorefer_fixture.py), the object mapping, and the runner's
// plumbing end to end on the tiny synthetic benchmark (answers of the tiny checkpoint are random:
// only the plumbing is checked, never the accuracy), including resume.
import Foundation
import Testing
@testable import Pipeline

@Suite(.serialized) struct VideoReferBenchTests {
    static let dir = Repo.path("Tests/Fixtures/videorefer")
    static let model = Repo.path("Tests/Fixtures/gar-tiny")

    static func expected() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/expected_scores.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func officialLetterRule() throws {
        // The letters Python's `re` read from the fixed predictions.
        let lines = try String(contentsOfFile: Self.dir + "/predictions_fixed.jsonl", encoding: .utf8).split(separator: "\n")
        let preds = try lines.map { line -> String in
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return try #require(o["pred"] as? String)
        }
        let letters = try #require(try Self.expected()["letters"] as? [Any])
        #expect(preds.count == letters.count)
        for (p, l) in zip(preds, letters) {
            #expect(MultipleChoice.officialLetter(p) == l as? String, "pred '\(p)'")
        }
        // More cases, worked by hand from the rule.
        #expect(MultipleChoice.officialLetter("I think B) is right, not (C)") == "C")   // "(X)" wins over an earlier "X)"
        #expect(MultipleChoice.officialLetter("b) lowercase") == "b")                   // only A-Z for "X)": first char
        #expect(MultipleChoice.officialLetter("...") == nil)
        #expect(MultipleChoice.officialTruth("(D) A watch") == "D")
        #expect(MultipleChoice.officialTruth("Yes") == "Yes")
        #expect(MultipleChoice.isCorrect(prediction: "d", answer: "(D) A watch"))
        #expect(!MultipleChoice.isCorrect(prediction: "", answer: "(D) A watch"))
    }

    @Test func scoresEqualThePythonRule() throws {
        let scores = try VideoReferBench.score(path: Self.dir + "/predictions_fixed.jsonl")
        let expected = try Self.expected()
        let rows = try #require(expected["types"] as? [[String: Any]])
        #expect(scores.types.map(\.type) == rows.map { $0["type"] as? String ?? "" })
        #expect(scores.types.map(\.total) == rows.map { $0["total"] as? Int ?? -1 })
        #expect(scores.types.map(\.correct) == rows.map { $0["correct"] as? Int ?? -1 })
        #expect(scores.types.map(\.accuracy) == rows.map { $0["accuracy"] as? Double ?? -1 })
        let avg = try #require(expected["average"] as? [String: Any])
        #expect(scores.average.total == avg["total"] as? Int && scores.average.correct == avg["correct"] as? Int)
        #expect(scores.average.accuracy == avg["accuracy"] as? Double)
        #expect(scores.errors == 0)
        #expect(scores.table.contains("| average | 8 | 6 | 75.0 |"))
    }

    @Test func objectsMapToPrompts() {
        #expect(VideoReferBench.mapObjects("What is <object3><region> not wearing?") == ("What is <Prompt0> not wearing?", ["<object3>"]))
        let two = VideoReferBench.mapObjects("Is <object2><region> left of <object0>? Does <object2> move?")
        #expect(two.text == "Is <Prompt0> left of <Prompt1>? Does <Prompt0> move?" && two.objects == ["<object2>", "<object0>"])
        #expect(VideoReferBench.mapObjects("No objects <region> here <objectX>").text == "No objects  here <objectX>")
    }

    @Test func questionsFileReads() throws {
        let items = try VideoReferBench.loadQuestions(Self.dir + "/questions.json")
        #expect(items.count == 8 && items[0].id == "0" && items[0].frameIndex == 4)
        #expect(Set(items.map(\.type)).count == 5)
        #expect(items[3].annotation.regions.count == 2)
        #expect(items[1].annotation.annotatedFrames == [0, 2, 4, 6, 8, 10])
        #expect(items[1].annotation.mask(region: 0, frame: 10) == nil, "a null segmentation is not visible")
        #expect(items[1].annotation.mask(region: 0, frame: 8)?.area == 14 * 12, "the square's top rows on the last annotated frame")
        #expect(items[1].annotation.mask(region: 0, frame: 3) == nil, "no key: not visible")
    }

    /// The runner end to end: 8 predictions, frames among the annotated ones, shared features for
    /// questions on the same clip and objects, resume after a cut last line.
    @Test func runnerPlumbingAndResume() throws {
        let tmp = Repo.tempDir("videorefer")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let out = tmp.appendingPathComponent("pred.jsonl").path
        var spec = PipelineSpec.builtIn(.videoReferBenchQ)
        spec.generation.maxNewTokens = 3
        var o = VideoReferOptions(questions: Self.dir + "/questions.json", videos: Self.dir + "/videos", out: out, spec: spec)
        o.quiet = true
        let engine = try VideoRegionEngine(modelDirectory: Self.model)
        let scores = try VideoReferBench.run(o, engine: engine)
        #expect(scores.average.total == 8 && scores.errors == 0)
        let records = try JSONLLedger.readRecords(path: out)
        #expect(records.map(\.id) == (0 ..< 8).map(String.init))
        for r in records {
            #expect(r.status == "ok")
            #expect(r.object["pred"] is String && r.object["Answer"] is String && r.object["type"] is String)
            let asked = try #require(r.object["question"] as? String)
            #expect(asked.hasSuffix(". Answer with the option's letter from the given choices directly."))
            #expect(!asked.contains("<object") && !asked.contains("<region>") && asked.contains("<Prompt0>"))
            let frames = try #require(r.object["frames"] as? [Int])
            #expect(Set(frames).isSubset(of: [0, 2, 4, 6, 8, 10]), "frames are picked among the annotated ones")
            let pred = r.object["pred"] as! String
            #expect(r.object["correct"] as? Bool == MultipleChoice.isCorrect(prediction: pred, answer: r.object["Answer"] as! String))
        }
        // Scores recomputed from the file agree with the run's.
        #expect(try VideoReferBench.score(path: out) == scores)
        // Questions 0, 2 and 5 ask about the red disc alone on the same clip: its frames are encoded
        // once; question 6 and 7 share the dots clip. Fewer tower runs than frames asked.
        let framesAsked = try records.map { try #require($0.object["frames"] as? [Int]).count }.reduce(0, +)
        #expect(engine.session.tilesEncodedTotal < framesAsked)
        // Resume: nothing to do.
        let before = engine.session.tilesEncodedTotal
        o.resume = true
        _ = try VideoReferBench.run(o, engine: engine)
        #expect(engine.session.tilesEncodedTotal == before)
        #expect(try JSONLLedger.readRecords(path: out).count == 8)
        // An interrupted run: the last line is cut in the middle. Resume drops it and re-asks only it.
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        let lastStart = data.dropLast().lastIndex(of: 0x0A)! + 1
        try data.prefix(lastStart + 20).write(to: URL(fileURLWithPath: out))
        engine.cache.removeAll()
        _ = try VideoReferBench.run(o, engine: engine)
        let after = try JSONLLedger.readRecords(path: out)
        #expect(after.map(\.id) == (0 ..< 8).map(String.init))
        #expect(engine.session.tilesEncodedTotal > before, "question 7 ran again")
        // Without --resume an existing file is refused.
        o.resume = false
        #expect(throws: PipelineError.self) { try VideoReferBench.run(o, engine: engine) }
    }

    @Test func singleMaskModeUsesOnlyTheQuestionFrame() throws {
        let tmp = Repo.tempDir("videorefer-single")
        defer { try? FileManager.default.removeItem(at: tmp) }
        var spec = PipelineSpec.builtIn(.videoReferBenchQ)
        spec.generation.maxNewTokens = 2
        spec.videorefer.maskMode = "single"
        var o = VideoReferOptions(questions: Self.dir + "/questions.json", videos: Self.dir + "/videos",
                                  out: tmp.appendingPathComponent("p.jsonl").path, spec: spec)
        o.limit = 3
        o.quiet = true
        let scores = try VideoReferBench.run(o, engine: try VideoRegionEngine(modelDirectory: Self.model))
        #expect(scores.average.total == 3)
        let records = try JSONLLedger.readRecords(path: o.out)
        #expect(records.map { $0.object["frames"] as? [Int] ?? [] } == [[4], [2], [6]])
    }

    /// A question whose objects do not match its annotation, or whose video is missing, is an
    /// error line; the run goes on and the scores count it as wrong.
    @Test func badQuestionsAreRecorded() throws {
        let tmp = Repo.tempDir("videorefer-bad")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/questions.json"))
        var list = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        list = Array(list.prefix(3))
        list[0]["Question"] = "Is <object1> near <object2>?"     // two objects, one annotation
        list[1]["video"] = "DAVIS/JPEGImages/480p/missing"
        let q = tmp.appendingPathComponent("q.json")
        try JSONSerialization.data(withJSONObject: list).write(to: q)
        var spec = PipelineSpec.builtIn(.videoReferBenchQ)
        spec.generation.maxNewTokens = 2
        var o = VideoReferOptions(questions: q.path, videos: Self.dir + "/videos", out: tmp.appendingPathComponent("p.jsonl").path, spec: spec)
        o.quiet = true
        let scores = try VideoReferBench.run(o, engine: try VideoRegionEngine(modelDirectory: Self.model))
        #expect(scores.errors == 2 && scores.average.total == 3)
        let records = try JSONLLedger.readRecords(path: o.out)
        #expect(records.map(\.status) == ["error", "error", "ok"])
        #expect((records[0].object["error"] as? String) == "question 0: names 2 object(s) (<object1>, <object2>) but its annotation has 1 region(s)")
        #expect((records[1].object["error"] as? String)?.hasPrefix(Self.dir + "/videos/DAVIS/JPEGImages/480p/missing: ") == true)
    }
}
