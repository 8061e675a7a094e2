// `gar describe` / `gar ask` / `gar bench model` driven through the built binary on the tiny
// checkpoint: JSON answers equal the reference goldens, text streams, and every bad input from
// issue 4 item 4 exits non-zero with one clear line on stderr.
import TestSupport
import Foundation
import Testing

/// Fixtures of the model commands; the binary runs through E2E (EndToEndSupport.swift).
enum GarBinary {
    static func fixture(_ relative: String) -> String {
        E2E.root.appendingPathComponent("Tests/Fixtures").appendingPathComponent(relative).path
    }

    static func run(_ arguments: [String]) throws -> E2E.Result { try E2E.run(arguments) }
}

func goldenManifest(_ name: String) throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: GarBinary.fixture("goldens/\(name)/manifest.json")))
    return try JSONSerialization.jsonObject(with: data) as! [String: Any]
}

@Suite(.serialized) struct ModelCLITests {
    let model = GarBinary.fixture("gar-tiny")

    @Test func describeJSONMatchesTheReference() throws {
        let m = try goldenManifest("a_describe_rgb")
        let expected = m["expected"] as! [String: Any]
        let r = try GarBinary.run(["describe", "--model", model, "--image", GarBinary.fixture("images/a_rgb_640x320.png"),
                                   "--mask", GarBinary.fixture("images/a_mask.png"), "--max-new-tokens", "32", "--threads", "2", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(json["token_ids"] as? [Int] == expected["generated_ids"] as? [Int])
        #expect(json["text"] as? String == expected["text"] as? String)
        #expect(json["prompt_tokens"] as? Int == expected["prompt_tokens"] as? Int)
        #expect(json["grid"] as? [Int] == [2, 1] && json["tiles"] as? Int == 3)
        let timings = json["timings"] as! [String: Any]
        for key in ["preprocess", "vision", "prefill", "decode", "tokens_per_second"] { #expect(timings[key] is Double, "timings.\(key)") }
    }

    @Test func describeStreamsTheText() throws {
        let expected = (try goldenManifest("a_describe_rgb")["expected"] as! [String: Any])["text"] as! String
        let r = try GarBinary.run(["describe", "--model", model, "--image", GarBinary.fixture("images/a_rgb_640x320.png"),
                                   "--mask", GarBinary.fixture("images/a_mask.png"), "--max-new-tokens", "32"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == expected + "\n")
    }

    @Test func askJSONMatchesTheReference() throws {
        let m = try goldenManifest("d_ask_multi_region")
        let inputs = m["inputs"] as! [String: Any], expected = m["expected"] as! [String: Any]
        var args = ["ask", "--model", model, "--image", GarBinary.fixture(inputs["image"] as! String)]
        for mask in inputs["masks"] as! [String] { args += ["--mask", GarBinary.fixture(mask)] }
        args += ["--question", inputs["question"] as! String, "--max-new-tokens", "32", "--json"]
        let r = try GarBinary.run(args)
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(json["token_ids"] as? [Int] == expected["generated_ids"] as? [Int])
        #expect(json["text"] as? String == expected["text"] as? String)
    }

    // MARK: bad inputs: non-zero exit, one line naming the input and the problem

    func failure(_ args: [String]) throws -> String {
        let r = try GarBinary.run(args)
        #expect(r.status != 0, "expected a failure: \(r.stdout)")
        let lines = r.stderr.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count == 1, "one line expected, got: \(r.stderr)")
        return r.stderr
    }

    var imageA: [String] { ["--image", GarBinary.fixture("images/a_rgb_640x320.png")] }

    @Test func maskOfTheWrongSize() throws {
        let msg = try failure(["describe", "--model", model] + imageA + ["--mask", GarBinary.fixture("images/b_mask.png")])
        #expect(msg.contains("1850×480") && msg.contains("640×320") && msg.contains("b_mask.png"), "\(msg)")
    }

    @Test func emptyMask() throws {
        let dir = TestTemp.directory("gar-cli")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pgm = dir.appendingPathComponent("empty.pgm")
        try (Data("P5\n640 320\n255\n".utf8) + Data(count: 640 * 320)).write(to: pgm)
        let msg = try failure(["describe", "--model", model] + imageA + ["--mask", pgm.path])
        #expect(msg.contains("empty"), "\(msg)")
    }

    @Test func moreRegionsThanPromptTokens() throws {
        let mask = GarBinary.fixture("images/a_mask.png")
        let masks = Array(repeating: ["--mask", mask], count: 6).flatMap { $0 }
        let msg = try failure(["ask", "--model", model] + imageA + masks + ["--question", "<Prompt0>?"])
        #expect(msg.contains("6 regions") && msg.contains("at most 5"), "\(msg)")
    }

    @Test func questionNamesARegionWithoutMask() throws {
        let msg = try failure(["ask", "--model", model] + imageA + ["--mask", GarBinary.fixture("images/a_mask.png"),
                                                                   "--question", "Is <Prompt0> near <Prompt3>?"])
        #expect(msg.contains("<Prompt3>"), "\(msg)")
    }

    @Test func missingOrCorruptModel() throws {
        var msg = try failure(["describe", "--model", "/nonexistent/model"] + imageA + ["--mask", GarBinary.fixture("images/a_mask.png")])
        #expect(msg.contains("/nonexistent/model"), "\(msg)")
        let dir = TestTemp.directory("gar-cli-model").appendingPathComponent("model")   // copyItem creates it
        try FileManager.default.copyItem(atPath: model, toPath: dir.path)
        defer { try? FileManager.default.removeItem(at: dir) }
        let weights = dir.appendingPathComponent("model.safetensors")
        try Data(try Data(contentsOf: weights).prefix(1000)).write(to: weights)
        msg = try failure(["describe", "--model", dir.path] + imageA + ["--mask", GarBinary.fixture("images/a_mask.png")])
        #expect(msg.contains("model.safetensors"), "\(msg)")
    }

    @Test func missingImage() throws {
        let msg = try failure(["describe", "--model", model, "--image", "/nonexistent/image.png", "--mask", GarBinary.fixture("images/a_mask.png")])
        #expect(msg.contains("/nonexistent/image.png"), "\(msg)")
    }

    @Test func badOptionValues() throws {
        let base = ["describe", "--model", model] + imageA + ["--mask", GarBinary.fixture("images/a_mask.png")]
        #expect(try GarBinary.run(base + ["--top-p", "1.5"]).status != 0)
        #expect(try GarBinary.run(base + ["--threads", "0"]).status != 0)
        #expect(try GarBinary.run(base + ["--max-new-tokens", "0"]).status != 0)
    }

    /// The benchmark command runs end to end on the tiny model (speed is never asserted).
    @Test func benchModelRuns() throws {
        let r = try GarBinary.run(["bench", "model", "--model", model, "--tiles", "1", "--prefill-len", "64", "--decode-steps", "2", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let gar = json["gar"] as! [String: Any]
        #expect((gar["decode_tokens_per_second"] as? Double ?? 0) > 0)
    }
}
