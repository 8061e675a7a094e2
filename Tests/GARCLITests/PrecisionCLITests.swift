// --precision / GAR_PRECISION / model.precision through the binary (issue 12 items 1 and 6): bf16
// keeps the golden greedy ids, --verbose names the precision and kernels, the flag beats the spec
// and the environment, and unknown precisions are usage errors (int8: Int8CLITests).
import Foundation
import Testing

@Suite(.serialized) struct PrecisionCLITests {
    static let model = "Tests/Fixtures/gar-tiny"
    static let describeArgs = ["describe", "--model", model, "--image", "Tests/Fixtures/images/a_rgb_640x320.png",
                               "--mask", "Tests/Fixtures/images/a_mask.png", "--max-new-tokens", "32", "--json"]

    static func goldenIDs(_ name: String) throws -> [Int] {
        let data = try Data(contentsOf: E2E.root.appendingPathComponent("Tests/Fixtures/goldens/\(name)/manifest.json"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require((manifest["expected"] as? [String: Any])?["generated_ids"] as? [Int])
    }

    @Test func bf16KeepsTheGoldenGreedyIDs() throws {
        let expected = try Self.goldenIDs("a_describe_rgb")
        let r = try E2E.run(Self.describeArgs + ["--precision", "bf16", "--verbose"])
        #expect(r.status == 0, "\(r.stderr)")
        let ids = try #require(try r.json()["token_ids"] as? [Int])
        #expect(ids.first == expected.first)
        #expect(zip(ids, expected).prefix { $0 == $1 }.count >= 8, "\(ids) vs \(expected)")
        #expect(r.stderr.contains("precision bf16") && r.stderr.contains("oneDNN"), "\(r.stderr)")
    }

    /// Video path (caption/ask/run share it): golden f through ask with an annotation, in bf16.
    @Test func bf16VideoAskKeepsTheGoldenFirstTokens() throws {
        let expected = try Self.goldenIDs("f_video_two_regions")
        let r = try E2E.run(["ask", "--model", Self.model, "--frames-dir", "Tests/Fixtures/images/f_video/frames",
                             "--annotation", "Tests/Fixtures/images/f_video/annotation.json",
                             "--question", "What does <Prompt0> do while <Prompt1> disappears?", "--max-new-tokens", "8",
                             "--json", "--quiet", "--precision", "bf16"])
        #expect(r.status == 0, "\(r.stderr)")
        let ids = try #require(try r.json()["token_ids"] as? [Int])
        #expect(ids == Array(expected.prefix(8)))
    }

    /// Flag > GAR_PRECISION > CPU default; the tests' pinned GAR_PRECISION=f32 is the f32 path.
    @Test func flagBeatsEnvironment() throws {
        let pinned = try E2E.run(Self.describeArgs + ["--verbose"])
        #expect(pinned.status == 0 && pinned.stderr.contains("precision f32"), "\(pinned.stderr)")
        let fromEnv = try E2E.run(Self.describeArgs + ["--verbose"], environment: ["GAR_PRECISION": "bf16"])
        #expect(fromEnv.status == 0 && fromEnv.stderr.contains("precision bf16"), "\(fromEnv.stderr)")
        let flag = try E2E.run(Self.describeArgs + ["--verbose", "--precision", "f32"], environment: ["GAR_PRECISION": "bf16"])
        #expect(flag.status == 0 && flag.stderr.contains("precision f32"), "\(flag.stderr)")
    }

    @Test func unknownPrecisionsAreUsageErrors() throws {
        let bogus = try E2E.run(Self.describeArgs + ["--precision", "fp8"])
        #expect(bogus.status == 64 && bogus.stderr.contains("unknown precision 'fp8'"), "\(bogus.stderr)")
        #expect(bogus.stdout.isEmpty)
        let env = try E2E.run(Self.describeArgs, environment: ["GAR_PRECISION": "int4"])
        #expect(env.status == 64, "\(env.status): \(env.stderr)")
        #expect(env.stderr.contains("GAR_PRECISION") && env.stderr.contains("unknown precision 'int4'"), "\(env.stderr)")
    }

    /// --emit-logits: first_step_logits holds the vocabulary's logits, its argmax is the first
    /// greedy id, and bf16's are within the faithfulness bound (2e-4 · max |logit|) of f32's;
    /// without the flag the key is absent.
    @Test func emitLogitsComparesPrecisions() throws {
        func logits(_ precision: String) throws -> (logits: [Double], first: Int) {
            let r = try E2E.run(Self.describeArgs + ["--emit-logits", "--precision", precision])
            #expect(r.status == 0, "\(r.stderr)")
            let j = try r.json()
            let l = try #require(j["first_step_logits"] as? [Double])
            return (l, try #require((j["token_ids"] as? [Int])?.first))
        }
        let f = try logits("f32"), b = try logits("bf16")
        #expect(f.logits.count == 1462 && b.logits.count == 1462)
        #expect(f.logits.firstIndex(of: f.logits.max()!) == f.first)
        let scale = f.logits.map(abs).max()!
        let diff = zip(f.logits, b.logits).map { abs($0 - $1) }.max()!
        #expect(diff <= 2e-4 * scale, "bf16 vs f32: \(diff) of \(scale)")
        #expect(diff > 0, "bf16 must not be the f32 path")
        let plain = try E2E.run(Self.describeArgs)
        #expect(try plain.json()["first_step_logits"] == nil)
        // Video answers carry them per question.
        let v = try E2E.run(["ask", "--model", Self.model, "--frames-dir", "Tests/Fixtures/images/f_video/frames",
                             "--annotation", "Tests/Fixtures/images/f_video/annotation.json",
                             "--question", "What does <Prompt0> do?", "--max-new-tokens", "2", "--json", "--quiet", "--emit-logits"])
        #expect(v.status == 0, "\(v.stderr)")
        let answers = try #require(try v.json()["answers"] as? [[String: Any]])
        #expect((answers.first?["first_step_logits"] as? [Double])?.count == 1462)
    }

    /// Every model command takes --precision (and refuses a bad one before doing any work).
    @Test(arguments: [["caption"], ["ask"], ["run", "pipelines/caption-tracked-object.yaml"], ["batch", "run"], ["bench", "model"], ["bench", "videorefer"]])
    func everyModelCommandHasTheOption(_ command: [String]) throws {
        let help = try E2E.run(command + ["--help"])
        #expect(help.stdout.contains("--precision"), "\(command): \(help.stdout.prefix(300))")
    }
}
