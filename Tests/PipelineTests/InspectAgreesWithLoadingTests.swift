// gar inspect and the model loader read one key schema: a checkpoint inspect passes is one that
// loads, and one it refuses does not load (the tiny fixture, and copies with a mutated config).
import Foundation
import Models
import Testing
@testable import Pipeline

@Suite struct InspectAgreesWithLoadingTests {
    static let model = Repo.path("Tests/Fixtures/gar-tiny")

    /// A copy of the tiny model whose config.json is changed by `edit`.
    static func mutated(_ tag: String, _ edit: (inout [String: Any]) -> Void) throws -> URL {
        let dir = Repo.tempDir("inspect-\(tag)")
        let fm = FileManager.default
        for name in try fm.contentsOfDirectory(atPath: model) where name != "config.json" {
            try fm.copyItem(atPath: model + "/" + name, toPath: dir.appendingPathComponent(name).path)
        }
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: model + "/config.json"))) as? [String: Any])
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        return dir
    }

    static func loads(_ dir: String) -> Bool { (try? GARModel.load(directory: dir)) != nil }

    static func editNested(_ config: inout [String: Any], _ path: [String], _ value: Any) {
        func set(_ d: inout [String: Any], _ i: Int) {
            if i == path.count - 1 { d[path[i]] = value; return }
            var inner = d[path[i]] as? [String: Any] ?? [:]
            set(&inner, i + 1)
            d[path[i]] = inner
        }
        set(&config, 0)
    }

    @Test func theFixturePassesBoth() throws {
        #expect(try InspectReport.build(directory: Self.model, includeKeys: false).matches)
        #expect(Self.loads(Self.model))
    }

    /// use_fc_norm: timm builds fc_norm either way and GAR never calls it; the loader accepts a
    /// checkpoint without it, so inspect does too (it used to report fc_norm missing).
    @Test func fcNormIsOptionalForBoth() throws {
        let dir = try Self.mutated("fcnorm") { c in
            Self.editNested(&c, ["mllm_config", "vision_config", "model_args", "use_fc_norm"], true)
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try InspectReport.build(directory: dir.path, includeKeys: false)
        #expect(report.matches, "\(report.missing)")
        #expect(Self.loads(dir.path))
    }

    /// attention_bias: the loader refuses the config, so inspect refuses it too (it used to list
    /// the bias keys as merely missing, and would pass a checkpoint holding them).
    @Test func unsupportedConfigFailsBoth() throws {
        let dir = try Self.mutated("bias") { c in
            Self.editNested(&c, ["mllm_config", "text_config", "attention_bias"], true)
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try InspectReport.build(directory: dir.path, includeKeys: false)
        #expect(!report.matches)
        #expect(report.unsupported == ["Llama attention_bias / mlp_bias are not supported (Llama-3 has none)"])
        #expect(report.mismatchLine?.contains("cannot load") == true)
        #expect(!Self.loads(dir.path))
    }
}
