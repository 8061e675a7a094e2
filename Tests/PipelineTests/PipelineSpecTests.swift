// Pipeline specs: the shipped files equal the built-in texts and parse; strict reading names the
// file, line and key of every problem; --set overrides; the prompt template is validated.
import TestSupport
import Foundation
import Models
import Testing
@testable import Pipeline

enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    static func tempDir(_ tag: String) -> URL {
        TestTemp.directory("gar-\(tag)")
    }
}

@Suite struct PipelineSpecTests {
    @Test(arguments: PipelineSpec.BuiltIn.allCases)
    func shippedFileEqualsBuiltIn(_ b: PipelineSpec.BuiltIn) throws {
        let file = try String(contentsOfFile: Repo.path("pipelines/\(b.rawValue).yaml"), encoding: .utf8)
        #expect(file == b.text, "pipelines/\(b.rawValue).yaml and BuiltInSpecs.swift differ: edit both")
        let spec = try PipelineSpec.load(path: Repo.path("pipelines/\(b.rawValue).yaml"))
        // The model path is relative to the spec file.
        #expect(spec.model == Repo.path("pipelines/../Tests/Fixtures/gar-tiny"))
        #expect(FileManager.default.fileExists(atPath: spec.model! + "/config.json"))
        // The shipped template is video protocol v1 exactly.
        #expect(spec.prompt.template == VideoPromptTemplate.v1)
        #expect(PipelineSpec.builtIn(b).model == nil)
    }

    @Test func shippedValues() {
        let caption = PipelineSpec.builtIn(.captionTrackedObject)
        #expect(caption.frames.count == 8 && caption.frames.fps == nil && caption.frames.rule == "plm")
        #expect(caption.questions == ["Describe this masked region in detail."])
        #expect(caption.tracker.fps == 15 && caption.tracker.maxSide == 854)
        #expect(caption.generation.maxNewTokens == 1024 && caption.generation.temperature == 0 && caption.generation.doubleBOS)
        let qa = PipelineSpec.builtIn(.temporalQA)
        #expect(qa.questions.count == 2 && qa.generation.maxNewTokens == 256)
        let vr = PipelineSpec.builtIn(.videoReferBenchQ)
        #expect(vr.frames.count == 16 && vr.frames.rule == "videorefer" && vr.videorefer.maskMode == "multi")
        #expect(vr.prompt.multipleChoiceSuffix == ". Answer with the option's letter from the given choices directly.")
    }

    @Test func emptyDocumentGivesDefaults() throws {
        let spec = try PipelineSpec.parse("", source: "empty.yaml")
        #expect(spec.frames == PipelineSpec.Frames())
        #expect(spec.prompt.template == .v1)
        #expect(spec.questions.isEmpty)
    }

    /// (YAML, expected file:line, key, words of the problem)
    static let bad: [(String, Int?, String, String)] = [
        ("frames:\n  count: 8\n  cout: 3\n", 3, "frames.cout", "unknown key"),
        ("version: 1\nframe:\n  count: 8\n", 2, "frame", "unknown key"),
        ("frames:\n  count: eight\n", 2, "frames.count", "whole number"),
        ("frames:\n  count: 0\n", 2, "frames.count", "at least 1"),
        ("frames:\n  rule: best\n", 2, "frames.rule", "plm, videorefer"),
        ("tracker:\n  fps: -1\n", 2, "tracker.fps", ">= 0"),
        ("generation:\n  top_p: 2\n", 2, "generation.top_p", "(0, 1]"),
        ("generation:\n  double_bos: maybe\n", 2, "generation.double_bos", "true or false"),
        ("questions:\n  - a\n  - ''\n", 1, "questions", "empty"),
        ("frames:\n  count: 8\nframes:\n  count: 9\n", 3, "frames", "twice"),
        ("frames: [1, 2]\n", 1, "frames", "mapping"),
        ("frames:\n  count: 8\n   fps: 2\n", 3, "", "invalid YAML"),
        ("prompt:\n  text: \"no crops here {question}\"\n", 2, "prompt.text", "{region_lines}"),
        ("prompt:\n  region_line: \"<Prompt{k}>: {crop}\"\n", 2, "prompt.region_line", "unknown placeholder {crop}"),
        ("version: 2\n", 1, "version", "version 1"),
    ]

    @Test(arguments: 0 ..< bad.count)
    func strictErrorsNameFileLineAndKey(_ i: Int) {
        let (yaml, line, key, words) = Self.bad[i]
        do {
            _ = try PipelineSpec.parse(yaml, source: "x.yaml")
            Issue.record("case \(i) parsed: \(yaml)")
        } catch let e as SpecError {
            #expect(e.source == "x.yaml")
            #expect(e.line == line, "case \(i): \(e)")
            #expect(e.key == key, "case \(i): \(e)")
            #expect(e.description.contains(words), "case \(i): \(e)")
            #expect(!e.description.contains("\n"), "one line: \(e)")
            if let line { #expect(e.description.hasPrefix("x.yaml:\(line): ")) }
        } catch {
            Issue.record("case \(i): unexpected error \(error)")
        }
    }

    @Test func overrides() throws {
        let spec = try PipelineSpec.parse(PipelineSpec.BuiltIn.temporalQA.text, source: "qa.yaml",
                                          overrides: ["frames.count=3", "questions=[\"What is <Prompt0>?\"]", "generation.seed=7",
                                                      "prompt.region_separator=' | '"])
        #expect(spec.frames.count == 3)
        #expect(spec.questions == ["What is <Prompt0>?"])
        #expect(spec.generation.seed == 7)
        #expect(spec.prompt.template.regionSeparator == " | ")
        #expect(throws: SpecError.self) { try PipelineSpec.parse("", source: "a.yaml", overrides: ["frames.cout=3"]) }
        do {
            _ = try PipelineSpec.parse("", source: "a.yaml", overrides: ["frames.cout=3"])
        } catch let e as SpecError {
            #expect(e.key == "frames.cout" && e.description.contains("unknown key"))
        }
        #expect(throws: SpecError.self) { try PipelineSpec.parse("", source: "a.yaml", overrides: ["nonsense"]) }
    }

    /// A --set value has no line in the file; its errors used to point at "qa.yaml:1".
    @Test func overrideErrorsNameTheOverride() throws {
        let qa = PipelineSpec.BuiltIn.temporalQA.text
        let cases = [("frames.count=x", "--set: frames.count: expected a whole number, got 'x'"),
                     ("generation.top_p=0", "--set: generation.top_p: must be > 0, got 0.0"),
                     ("questions=[1, [2]]", "--set: questions[1]: expected text"),
                     ("nokey.x=1", "--set: nokey: unknown key (expected one of: version, description")]
        for (o, message) in cases {
            do {
                _ = try PipelineSpec.parse(qa, source: "qa.yaml", overrides: [o])
                Issue.record("--set \(o) accepted")
            } catch {
                #expect("\(error)".hasPrefix(message), "--set \(o): \(error)")
            }
        }
        // A problem in the file itself still names the file and line, overrides or not.
        #expect(throws: SpecError(source: "x.yaml", line: 2, key: "frames.count", problem: "must be at least 1, got 0")) {
            try PipelineSpec.parse("frames:\n  count: 0\n", source: "x.yaml", overrides: ["generation.seed=1"])
        }
    }

    /// Nine lines of aliases expand to 10^9 values ("billion laughs"): walking them took minutes and
    /// 8 GB before the run was killed. Now the walk stops at YAMLTree.maxNodes.
    @Test func aliasBombIsRefused() throws {
        var lines = ["version: 1", "questions: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1 ... 8 { lines.append("d\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]") }
        do {
            _ = try PipelineSpec.parse(lines.joined(separator: "\n"), source: "bomb.yaml")
            Issue.record("the alias bomb was accepted")
        } catch let e as SpecError {
            #expect(e.source == "bomb.yaml" && e.problem == "more than 100000 values in the document (aliases expanding without bound?)", "\(e)")
        }
        // Aliases that stay small are still YAML.
        let spec = try PipelineSpec.parse("version: 1\nquestions: &q [What is <Prompt0>?]\n", source: "ok.yaml")
        #expect(spec.questions == ["What is <Prompt0>?"])
    }

    /// An empty spec file used to run with every default; it is a truncated or wrong file.
    @Test func emptyFileIsAnError() throws {
        let dir = Repo.tempDir("empty-spec")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("empty.yaml").path
        try Data(" \n\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: SpecError(source: path, line: nil, key: "", problem: "the file is empty")) {
            try PipelineSpec.load(path: path)
        }
    }

    @Test func missingFileIsOneLine() {
        do {
            _ = try PipelineSpec.load(path: "/nonexistent/spec.yaml")
            Issue.record("loaded a missing file")
        } catch {
            #expect("\(error)" == "/nonexistent/spec.yaml: no such pipeline file")
        }
    }

    @Test func requestOptionsFollowTheSpec() throws {
        let spec = try PipelineSpec.parse("generation:\n  max_new_tokens: 5\n  temperature: 0.5\n  seed: 3\n  double_bos: false\nreplay:\n  corrected_box_scaling: true\n",
                                          source: "g.yaml")
        let o = spec.requestOptions
        #expect(o.generation.maxNewTokens == 5 && o.generation.temperature == 0.5 && o.generation.seed == 3)
        #expect(!o.doubleBOS && o.replay.correctedBoxScaling && !o.replay.perRegionBoxes)
    }
}
