// Several questions in one command (issue 12 point 5) through the built binary: `gar ask` (image
// and video) and `gar run` answer each question exactly as a run with that question alone does,
// while the later questions reuse the shared prompt prefix's KV cache.
import Foundation
import Testing

@Suite(.serialized) struct PrefixReuseCLITests {
    static let model = "Tests/Fixtures/gar-tiny"
    static let dQuestion = "Is <Prompt0> touching <Prompt2>? Décris aussi <Prompt1> — 猫と犬 🐕‍🦺 naïve café"
    static let questions = [dQuestion, "What is <Prompt1> doing next to <Prompt0>?", "Is <Prompt0> touching <Prompt2>? Answer briefly."]
    static let fFrames = "Tests/Fixtures/images/f_video/frames"
    static let fAnnotation = "Tests/Fixtures/images/f_video/annotation.json"
    static let fQuestions = ["What does <Prompt0> do while <Prompt1> disappears?", "Does <Prompt0> move left of <Prompt1>?"]

    var imageArgs: [String] {
        ["ask", "--model", Self.model, "--image", "Tests/Fixtures/images/d_rgb_256x192.png",
         "--mask", "Tests/Fixtures/images/d_mask0.png", "--mask", "Tests/Fixtures/images/d_mask1.png",
         "--mask", "Tests/Fixtures/images/d_mask2.png", "--max-new-tokens", "16"]
    }

    func jsonLines(_ r: E2E.Result) throws -> [[String: Any]] {
        try r.stdout.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    @Test func imageQuestionsAnswerAsAlone() throws {
        let r = try E2E.run(imageArgs + Self.questions.flatMap { ["--question", $0] } + ["--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let answers = try jsonLines(r)
        #expect(answers.count == Self.questions.count)
        for (q, a) in zip(Self.questions, answers) {
            let alone = try E2E.run(imageArgs + ["--question", q, "--json"])
            #expect(alone.status == 0, "\(alone.stderr)")
            let one = try #require(try jsonLines(alone).first)
            #expect(a["question"] as? String == q)
            #expect(a["token_ids"] as? [Int] == one["token_ids"] as? [Int], "\(q)")
            #expect(a["text"] as? String == one["text"] as? String, "\(q)")
            #expect(a["prompt_tokens"] as? Int == one["prompt_tokens"] as? Int, "\(q)")
        }
        // The golden's question first: its tokens are the reference's (first 16).
        let expected = (try goldenManifest("d_ask_multi_region")["expected"] as! [String: Any])["generated_ids"] as! [Int]
        #expect(answers.first?["token_ids"] as? [Int] == Array(expected.prefix(16)))
        // Streaming: one answer per line.
        let t = try E2E.run(imageArgs + Self.questions.prefix(2).flatMap { ["--question", $0] })
        #expect(t.status == 0 && t.stdout == answers.prefix(2).map { ($0["text"] as! String) + "\n" }.joined(), "\(t.stdout)")
    }

    @Test func videoQuestionsAnswerAsAlone() throws {
        let base = ["--frames-dir", Self.fFrames, "--annotation", Self.fAnnotation, "--max-new-tokens", "16", "--quiet"]
        let ask = try E2E.run(["ask", "--model", Self.model] + base + Self.fQuestions.flatMap { ["--question", $0] } + ["--json"])
        let run = try E2E.run(["run", "pipelines/temporal-qa.yaml"] + base + Self.fQuestions.flatMap { ["--question", $0] })
        for r in [ask, run] {
            #expect(r.status == 0, "\(r.stderr)")
            let answers = try #require(try r.json()["answers"] as? [[String: Any]])
            #expect(answers.count == 2)
            #expect(answers.map { $0["frames_encoded"] as? Int } == [4, 0])
            for (q, a) in zip(Self.fQuestions, answers) {
                let alone = try E2E.run(["ask", "--model", Self.model] + base + ["--question", q, "--json"])
                let one = try #require((try alone.json()["answers"] as? [[String: Any]])?.first)
                #expect(a["token_ids"] as? [Int] == one["token_ids"] as? [Int], "\(q)")
                #expect(a["text"] as? String == one["text"] as? String, "\(q)")
            }
        }
        // Without --json: one answer per line.
        let t = try E2E.run(["ask", "--model", Self.model] + base + Self.fQuestions.flatMap { ["--question", $0] })
        let answers = try #require(try ask.json()["answers"] as? [[String: Any]])
        #expect(t.status == 0 && t.stdout == answers.map { ($0["text"] as! String) + "\n" }.joined(), "\(t.stdout)")
    }

    @Test func askNeedsAQuestion() throws {
        let r = try E2E.run(imageArgs)
        #expect(r.status == 64 && r.stderr.hasPrefix("error: ") && r.stderr.contains("--question"), "\(r.status) \(r.stderr)")
        let e = try E2E.run(imageArgs + ["--question", "ok", "--question", " "])
        #expect(e.status == 64 && e.stderr == "error: --question: the question is empty\n", "\(e.status) \(e.stderr)")
    }
}
