// One source of truth for checkpoint keys: `gar inspect` (InspectReport) and the model loader
// (GARModel.load) read the loaders' key tables, so a checkpoint with a missing, mis-shaped or extra
// key gets the same verdict from both, naming the same key. Bad copies of the tiny fixture's
// model.safetensors are written to a temp folder (every key removed in turn, every key mis-shaped
// in turn, one extra key, the ignored keys present).
import Checkpoints
import Foundation
import Models
import Testing
@testable import Pipeline

@Suite struct KeyTableVerdictTests {
    static let model = Repo.path("Tests/Fixtures/gar-tiny")

    /// The fixture's tensors (name, dtype, shape, bytes), in file order.
    static var tensors: [SafeTensorsWriter.Entry] {
        let checkpoint = try! Checkpoint(directory: model)
        return checkpoint.names.map { name in
            let view = try! checkpoint.view(name)
            return SafeTensorsWriter.Entry(name: name, dtype: view.info.dtype, shape: view.info.shape, bytes: Array(view.bytes))
        }
    }

    /// The two verdicts on a copy of the fixture holding `tensors`: inspect's comparison and the
    /// loader's report (nil when the model loads).
    static func verdicts(_ tensors: [SafeTensorsWriter.Entry]) throws -> (inspect: InspectReport, load: LoadReport?) {
        let dir = Repo.tempDir("keytable")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        for name in try fm.contentsOfDirectory(atPath: model) where name != "model.safetensors" {
            try fm.copyItem(atPath: model + "/" + name, toPath: dir.appendingPathComponent(name).path)
        }
        var writer = SafeTensorsWriter()
        for t in tensors { writer.add(t) }
        try writer.write(to: dir.appendingPathComponent("model.safetensors"))
        let inspect = try InspectReport.build(directory: dir.path, includeKeys: false)
        do {
            _ = try GARModel.load(directory: dir.path)
            return (inspect, nil)
        } catch let CheckpointError.load(report) {
            return (inspect, report)
        }
    }

    /// A zero tensor of `dtype` and `shape`.
    static func zeros(_ name: String, _ shape: [Int], like t: SafeTensorsWriter.Entry) -> SafeTensorsWriter.Entry {
        SafeTensorsWriter.Entry(name: name, dtype: t.dtype, shape: shape,
                                bytes: [UInt8](repeating: 0, count: shape.reduce(1, *) * t.bytes.count / max(t.shape.reduce(1, *), 1)))
    }

    @Test func theFixturePassesBoth() throws {
        let (inspect, load) = try Self.verdicts(Self.tensors)
        #expect(inspect.matches)
        #expect(load == nil)
    }

    @Test func everyMissingKeyFailsBothNamingIt() throws {
        let all = Self.tensors
        #expect(all.count > 40)
        for (i, t) in all.enumerated() {
            var rest = all
            rest.remove(at: i)
            let (inspect, load) = try Self.verdicts(rest)
            #expect(!inspect.matches && inspect.missing == [t.name], "inspect without \(t.name): \(inspect.missing)")
            #expect(load?.missing == [t.name], "loading without \(t.name): \(String(describing: load))")
        }
    }

    @Test func everyMisShapedKeyFailsBothNamingIt() throws {
        let all = Self.tensors
        for (i, t) in all.enumerated() {
            var bad = all
            let shape = t.shape.dropLast() + [t.shape.last! + 1]
            bad[i] = Self.zeros(t.name, Array(shape), like: t)
            let (inspect, load) = try Self.verdicts(bad)
            #expect(!inspect.matches && inspect.mismatched.map(\.name) == [t.name], "inspect, \(t.name) as \(shape)")
            #expect(inspect.mismatched.first?.expected == t.shape)
            #expect(load?.mismatched.map(\.name) == [t.name], "loading, \(t.name) as \(shape): \(String(describing: load))")
        }
    }

    @Test func anExtraKeyFailsBothNamingIt() throws {
        let extra = Self.zeros("mllm.model.language_model.layers.0.self_attn.q_proj.bias", [4], like: Self.tensors[0])
        let (inspect, load) = try Self.verdicts(Self.tensors + [extra])
        #expect(!inspect.matches && inspect.unused == [extra.name])
        #expect(load?.unused == [extra.name])
    }

    /// Keys the tables mark as ignored (timm's fc_norm; the tied head) pass both, whatever their
    /// shape, and the fixture's config ties the head.
    @Test func ignoredKeysPassBoth() throws {
        let (_, spec) = try GARConfig.load(Self.model)
        let ignored = GARKeySchema(spec: spec).entries.filter(\.optional)
        #expect(Set(ignored.map(\.name)) == ["mllm.model.vision_tower.timm_model.fc_norm.weight",
                                             "mllm.model.vision_tower.timm_model.fc_norm.bias", "mllm.lm_head.weight"])
        let present = ignored.map { Self.zeros($0.name, [3], like: Self.tensors[0]) }
        let (inspect, load) = try Self.verdicts(Self.tensors + present)
        #expect(inspect.matches, "\(inspect.mismatched) \(inspect.unused)")
        #expect(load == nil)
    }
}
