// --precision int8 through the binary (issue 12 items 1, 2 and 6): the image, video and spec paths
// run in int8 (flag, GAR_PRECISION, `--set model.precision`), --verbose names the int8 kernels, and
// --emit-logits shows int8's first-step logits near — but not equal to — f32's.
import Foundation
import Testing

@Suite(.serialized) struct Int8CLITests {
    static let model = "Tests/Fixtures/gar-tiny"
    static let describeArgs = ["describe", "--model", model, "--image", "Tests/Fixtures/images/a_rgb_640x320.png",
                               "--mask", "Tests/Fixtures/images/a_mask.png", "--max-new-tokens", "4", "--json", "--emit-logits"]

    @Test func describeRunsInInt8() throws {
        func logits(_ precision: String) throws -> (logits: [Double], first: Int, stderr: String) {
            let r = try E2E.run(Self.describeArgs + ["--precision", precision, "--verbose"])
            #expect(r.status == 0, "\(r.stderr)")
            let j = try r.json()
            return (try #require(j["first_step_logits"] as? [Double]), try #require((j["token_ids"] as? [Int])?.first), r.stderr)
        }
        let f = try logits("f32"), q = try logits("int8")
        #expect(q.stderr.contains("precision int8") && q.stderr.contains("int8 GEMV") && q.stderr.contains("oneDNN int8 matmul"), "\(q.stderr)")
        #expect(q.logits.count == f.logits.count)
        #expect(q.logits.firstIndex(of: q.logits.max()!) == q.first)
        let scale = f.logits.map(abs).max()!
        let diff = zip(f.logits, q.logits).map { abs($0 - $1) }.max()!
        // Int8FaithfulnessTests: 1.03e-1 measured on this case (1.06e-1 with the bf16 KV cache).
        #expect(diff <= 0.2 * scale && diff > 1e-3 * scale, "int8 vs f32: \(diff) of \(scale)")
    }

    /// The video path (ask) from GAR_PRECISION, and a spec run with `--set model.precision=int8`.
    @Test func videoAndSpecRunInInt8() throws {
        let ask = try E2E.run(["ask", "--model", Self.model, "--frames-dir", "Tests/Fixtures/images/f_video/frames",
                               "--annotation", "Tests/Fixtures/images/f_video/annotation.json",
                               "--question", "What does <Prompt0> do?", "--max-new-tokens", "2", "--json", "--verbose"],
                              environment: ["GAR_PRECISION": "int8"])
        #expect(ask.status == 0 && ask.stderr.contains("precision int8"), "\(ask.stderr)")
        #expect(try (ask.json()["token_ids"] as? [Int])?.count == 2)

        let dir = E2E.tempDir("int8-spec")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = dir.appendingPathComponent("spec.yaml")
        let modelPath = E2E.root.appendingPathComponent(Self.model).path
        try "version: 1\nmodel: \(modelPath)\nquestions:\n  - What is <Prompt0>?\n".write(to: spec, atomically: true, encoding: .utf8)
        let run = try E2E.run(["run", spec.path, "--video", "samples/clips/ball.mp4", "--region", "mask=samples/masks/ball_f0.png",
                               "--set", "model.precision=int8", "--frames", "2", "--max-new-tokens", "1", "--verbose"])
        #expect(run.status == 0 && run.stderr.contains("precision int8"), "\(run.stderr)")
    }
}
