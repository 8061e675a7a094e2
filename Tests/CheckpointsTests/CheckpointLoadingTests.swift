// Checkpoint directories (single file, shards) and the scoped strict weight loader.
import Foundation
import Testing
@testable import Checkpoints
import Tensors

@Suite struct CheckpointDirectoryTests {
    func writeFile(_ dir: TempDir, _ name: String, _ tensors: [(String, [Float])]) throws {
        var w = SafeTensorsWriter()
        for (n, v) in tensors { w.add(.init(name: n, tensor: Tensor(shape: [v.count], v), as: .bf16)) }
        try w.write(to: dir.url.appendingPathComponent(name))
    }

    @Test func singleFile() throws {
        let dir = try TempDir()
        try writeFile(dir, "model.safetensors", [("a.weight", [1, 2]), ("b", [3])])
        let c = try Checkpoint(directory: dir.url.path)
        #expect(c.names == ["a.weight", "b"])
        #expect(try c.tensor("a.weight").storage == [1, 2])
    }

    @Test func shardsWithIndex() throws {
        let dir = try TempDir()
        try writeFile(dir, "model-00001-of-00002.safetensors", [("a", [1]), ("b", [2])])
        try writeFile(dir, "model-00002-of-00002.safetensors", [("c", [3])])
        try dir.write("model.safetensors.index.json", """
        {"metadata": {"total_size": 6}, "weight_map": {"a": "model-00001-of-00002.safetensors",
         "b": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors"}}
        """)
        let c = try Checkpoint(directory: dir.url.path)
        #expect(c.names == ["a", "b", "c"])
        #expect(c.files.count == 2)
        #expect(try c.tensor("c").storage == [3])
    }

    func expectError(_ dir: TempDir, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try Checkpoint(directory: dir.url.path)
            Issue.record("accepted (expected \(fragment))", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)".contains(fragment), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func shardProblemsAreNamed() throws {
        let dir = try TempDir()
        try writeFile(dir, "s1.safetensors", [("a", [1]), ("x", [9])])
        try dir.write("model.safetensors.index.json", #"{"weight_map": {"a": "s1.safetensors", "x": "s1.safetensors", "b": "s2.safetensors"}}"#)
        expectError(dir, "shard s2.safetensors (holding b and 0 more) does not exist")
        try writeFile(dir, "s2.safetensors", [("c", [3])])
        expectError(dir, "weight_map puts b in s2.safetensors, which does not contain it")
        try dir.write("model.safetensors.index.json", #"{"weight_map": {"a": "s1.safetensors"}}"#)
        expectError(dir, "s1.safetensors holds x, which weight_map does not list")
        try dir.write("model.safetensors.index.json", #"{"weight_map": {"a": "../s1.safetensors"}}"#)
        expectError(dir, "is not a plain file name")
        try dir.write("model.safetensors.index.json", #"{"weight_map": {"a": "s1.safetensors",}}"#)
        expectError(dir, "invalid JSON at byte")
        try dir.write("model.safetensors.index.json", #"{"metadata": {}}"#)
        expectError(dir, "weight_map: missing")
        try writeFile(dir, "s3.safetensors", [("a", [5])])
        try dir.write("model.safetensors.index.json", #"{"weight_map": {"a": "s1.safetensors", "x": "s1.safetensors", "z": "s3.safetensors"}}"#)
        expectError(dir, "weight_map puts z in s3.safetensors")  // s3 holds a, not z
        let empty = try TempDir()
        expectError(empty, "no model.safetensors or model.safetensors.index.json")
        #expect(throws: CheckpointError.self) { try Checkpoint(directory: empty.path("nowhere")) }
    }

    @Test func duplicateAcrossShards() throws {
        let dir = try TempDir()
        try writeFile(dir, "s1.safetensors", [("a", [1])])
        try writeFile(dir, "s2.safetensors", [("a", [2])])
        let files = try ["s1.safetensors", "s2.safetensors"].map { try SafeTensorsFile(path: dir.path($0)) }
        #expect(throws: CheckpointError.self) { try Checkpoint(files: files, source: dir.url.path) }
    }
}

@Suite struct WeightLoaderTests {
    func checkpoint(_ tensors: [(String, [Int], DType)]) throws -> (TempDir, Checkpoint) {
        let dir = try TempDir()
        var w = SafeTensorsWriter()
        for (i, (n, shape, dtype)) in tensors.enumerated() {
            if dtype == .i64 {
                w.add(.init(name: n, dtype: .i64, shape: shape, bytes: [UInt8](repeating: 0, count: shape.reduce(1, *) * 8)))
            } else {
                w.add(.init(name: n, tensor: Tensor(shape: shape, floats(shape.reduce(1, *), seed: UInt64(i))), as: dtype))
            }
        }
        try w.write(to: dir.url.appendingPathComponent("model.safetensors"))
        return (dir, try Checkpoint(directory: dir.url.path))
    }

    @Test func scopedTakeAndFinish() throws {
        let (dir, c) = try checkpoint([("model.layers.0.q.weight", [4, 3], .bf16), ("model.layers.1.q.weight", [4, 3], .f16),
                                       ("model.norm.weight", [3], .f32), ("model.rotary.inv_freq", [2], .f32)])
        _ = dir
        let loader = WeightLoader(c)
        let model = loader.scope("model")
        for i in 0 ..< 2 {
            let q = try model.scope("layers.\(i)").take("q.weight", shape: [4, 3])
            #expect(q.shape == [4, 3])
        }
        #expect(model.scope("layers.0").key("q.weight") == "model.layers.0.q.weight")
        let norm = try model.take("norm.weight", shape: [3])
        #expect(norm.storage == floats(3, seed: 2))  // F32 stored exactly
        model.ignore("rotary.inv_freq")  // recomputed by the model: consumed on purpose
        try loader.finish()
    }

    @Test func bf16ValuesAreExact() throws {
        let (dir, c) = try checkpoint([("w", [5, 7], .bf16)])
        _ = dir
        let w = try WeightLoader(c).scope("").take("w", shape: [5, 7])
        #expect(w.storage == Convert.roundTripBF16(floats(35, seed: 0)))
    }

    @Test func reportsEveryProblemByName() throws {
        let (dir, c) = try checkpoint([("m.a", [2, 2], .bf16), ("m.b", [3], .bf16), ("m.extra1", [1], .bf16),
                                       ("m.ids", [2], .i64), ("other.extra2", [1], .f32)])
        _ = dir
        let loader = WeightLoader(c)
        let m = loader.scope("m")
        let a = try m.take("a", shape: [2, 3])           // wrong shape
        #expect(a.shape == [2, 3] && a.storage.allSatisfy { $0 == 0 })  // placeholder
        _ = try m.take("b", shape: [3])                  // fine
        _ = try m.take("missing1", shape: [7])            // missing
        _ = try m.scope("deep").take("missing2", shape: [1])
        _ = try m.take("ids", shape: [2])                 // integer dtype
        #expect(try m.takeOptional("lm_head.weight", shape: [3]) == nil)  // tied: absent is fine
        do {
            try loader.finish()
            Issue.record("finish() accepted a broken checkpoint")
        } catch let CheckpointError.load(report) {
            #expect(report.missing == ["m.missing1", "m.deep.missing2"])
            #expect(report.mismatched == [.init(name: "m.a", expected: [2, 3], found: [2, 2])])
            #expect(report.unused == ["m.extra1", "other.extra2"])
            #expect(report.unreadable == ["m.ids (I64)"])
            let line = CheckpointError.load(report).description
            #expect(!line.contains("\n"))
            #expect(line.contains("2 missing (m.missing1, m.deep.missing2)"))
            #expect(line.contains("m.a: expected [2, 3], found [2, 2]"))
            #expect(line.contains("2 unused (m.extra1, other.extra2)"))
        }
    }

    @Test func tiedHeadPresentWithWrongShapeIsReported() throws {
        let (dir, c) = try checkpoint([("lm_head.weight", [3, 2], .bf16)])
        _ = dir
        let loader = WeightLoader(c)
        let head = try loader.scope("").takeOptional("lm_head.weight", shape: [2, 3])
        #expect(head?.shape == [2, 3])
        #expect(throws: CheckpointError.self) { try loader.finish() }
    }

    /// A checkpoint that matches nothing stops early instead of allocating every placeholder,
    /// and placeholders of equal size share storage.
    @Test func placeholderBudgetStopsEarly() throws {
        let (dir, c) = try checkpoint([("x", [1], .f32)])
        _ = dir
        let loader = WeightLoader(c, placeholderBudget: 1000)
        let s = loader.scope("model")
        for i in 0 ..< 50 { _ = try s.take("same.\(i)", shape: [10, 10]) }  // shared 100-element zeros
        do {
            _ = try s.take("huge", shape: [100, 100])
            Issue.record("no early stop")
        } catch let CheckpointError.load(report) {
            #expect(report.stoppedEarly)
            #expect(report.missing.count == 51)
            #expect(report.description.contains("loading stopped early"))
        }
    }

    @Test func releasingPagesKeepsValuesReadable() throws {
        let (dir, c) = try checkpoint([("a", [4096], .bf16), ("b", [4096], .bf16)])
        _ = dir
        let loader = WeightLoader(c, releasePagesAfterLoad: true)
        let a1 = try loader.scope("").take("a", shape: [4096])
        let a2 = try c.tensor("a")  // re-read after the pages were dropped
        #expect(a1 == a2)
    }
}
