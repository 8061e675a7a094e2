// Conventions left over from issue 10, through the built binary: a question naming a region that
// was not given is a usage error found before any work; `--set model.precision=…` on a spec whose
// `model:` is a plain path keeps the path; a batch results file in the input folder is refused
// before any work.
import Foundation
import Testing

@Suite struct LeftoverConventionsTests {
    static let model = "Tests/Fixtures/gar-tiny"
    static let clip = "samples/clips/ball.mp4"
    static let mask = "samples/masks/ball_f0.png"
    static let image = "samples/images/rgb.png"

    /// `<Prompt5>` with one region: exit 64, one line naming the region, nothing decoded or tracked.
    @Test(arguments: [
        ["ask", clip, "--model", model, "--region", "mask=\(mask)", "--question", "What is <Prompt5> doing?"],
        ["ask", clip, "--model", model, "--mask", mask, "--question", "Is <Prompt0> near <Prompt1>?"],
        ["ask", "--image", image, "--model", model, "--mask", mask, "--question", "What is <Prompt5>?"],
    ])
    func questionNamingAMissingRegionIsAUsageError(args: [String]) throws {
        let r = try E2E.run(args)
        #expect(r.status == 64, "\(r.status) \(r.stderr)")
        #expect(r.stderr.hasPrefix("error: --question: the question names <Prompt") && r.stderr.contains("but only <Prompt0> has a mask"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one line, no progress: \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    /// The regions that are given may all be named.
    @Test func namingTheGivenRegionsIsFine() throws {
        let r = try E2E.run(["ask", Self.clip, "--model", Self.model, "--region", "mask=\(Self.mask)", "--region", "mask=\(Self.mask)",
                             "--question", "Is <Prompt1> left of <Prompt0>?", "--frames", "2", "--max-new-tokens", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
    }

    /// `model: DIR` then `--set model.precision=bf16`: the run still uses DIR (it used to lose it
    /// and fail for want of a model).
    @Test func setModelPrecisionKeepsAPlainModelPath() throws {
        let dir = E2E.tempDir("set-precision")
        defer { try? FileManager.default.removeItem(at: dir) }
        let modelPath = E2E.root.appendingPathComponent(Self.model).path
        let spec = dir.appendingPathComponent("spec.yaml")
        try "version: 1\nmodel: \(modelPath)\nquestions:\n  - What is <Prompt0>?\n".write(to: spec, atomically: true, encoding: .utf8)
        let r = try E2E.run(["run", spec.path, "--video", Self.clip, "--region", "mask=\(Self.mask)", "--set", "model.precision=bf16",
                             "--frames", "2", "--max-new-tokens", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(answer["model"] as? String == modelPath)
    }

    /// `--out` equal to the videos folder, or a file anywhere inside it: exit 64 before any work,
    /// nothing written.
    @Test func batchResultsInsideTheInputFolderAreRefused() throws {
        let dir = E2E.tempDir("batch-out-inside")
        defer { try? FileManager.default.removeItem(at: dir) }
        let videos = dir.appendingPathComponent("videos")
        try FileManager.default.createDirectory(at: videos.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: E2E.root.appendingPathComponent(Self.clip).path, toPath: videos.appendingPathComponent("ball.mp4").path)
        try "mask=\(E2E.root.appendingPathComponent(Self.mask).path)\n".write(to: videos.appendingPathComponent("ball.regions"), atomically: true, encoding: .utf8)
        let before = try FileManager.default.subpathsOfDirectory(atPath: videos.path).sorted()
        for out in [videos.path, videos.path + "/", videos.appendingPathComponent("results.jsonl").path,
                    videos.appendingPathComponent("sub/results.jsonl").path, dir.path + "/videos/../videos/r.jsonl",
                    videos.appendingPathComponent("ball.regions").path] {
            for extra in [[], ["--resume"]] {
                let r = try E2E.run(["batch", videos.path, "--pipeline", "pipelines/temporal-qa.yaml", "--model", Self.model,
                                     "--out", out] + extra)
                #expect(r.status == 64, "\(out) \(extra): \(r.status) \(r.stderr)")
                #expect(r.stderr.hasPrefix("error: --out ") && r.stderr.contains("input folder"), "\(r.stderr)")
                #expect(r.stderr.split(separator: "\n").count == 1, "one line, no progress: \(r.stderr)")
                #expect(r.stdout.isEmpty)
            }
        }
        #expect(try FileManager.default.subpathsOfDirectory(atPath: videos.path).sorted() == before)
    }
}
