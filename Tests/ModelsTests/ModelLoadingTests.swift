// Loading real-layout checkpoints strictly: both tower forms, tied and untied heads, ids from the
// files, RoPE tables and inv_freq against the unit goldens; broken model directories fail with
// one clear line naming the file and the problem.
import TestSupport
import Checkpoints
import Foundation
@testable import Models
import Tensors
import Testing

@Suite(.serialized) struct ModelLoadingTests {
    @Test func oneBillionForm() throws {
        let m = try Fixtures.model("gar-tiny")
        #expect(m.spec.vision.classToken && m.encoder.clsToken != nil)
        #expect(m.spec.vision.ropeGridOffset == 1)
        #expect(m.spec.vision.numHeads == 2 && m.spec.vision.mlpHidden == 128)   // num_heads from model_args
        #expect(m.spec.text.tieWordEmbeddings)
        #expect(m.encoder.tokensPerTile == 1025)
        #expect(m.tokensPerTile == 256)
        #expect(m.defaultStopTokens == [1209])                                   // the tokenizer's eos (<|eot_id|>)
        #expect(m.allStopTokens == [1201, 1209])                                 // + generation_config / text config
        #expect(m.spec.cropTokenIds == [1204, 1205, 1208, 1210, 1211])
        #expect(m.preprocessor.maxNumTiles == 4)
        // Tied head (f32 path): the head reads the embedding storage itself (no copy).
        if case let .bf16(e) = m.decoder.embedTokens, case let .bf16Stored(h) = m.decoder.head.weight {
            #expect(e.withUnsafeBufferPointer { $0.baseAddress } == h.withUnsafeBufferPointer { $0.baseAddress })
        } else {
            Issue.record("GAR checkpoints are bf16: the decoder must keep bf16 matrices")
        }
    }

    @Test func eightBillionForm() throws {
        let m = try Fixtures.model("gar-tiny-8bform")
        #expect(!m.spec.vision.classToken && m.encoder.clsToken == nil)
        #expect(m.spec.vision.ropeGridOffset == 0)
        #expect(m.spec.vision.numHeads == 3)
        #expect(m.spec.vision.mlpHidden == 210)                                  // int(36 · 8960/1536)
        #expect(!m.spec.text.tieWordEmbeddings)
        #expect(m.encoder.tokensPerTile == 1024)
        if case let .bf16(e) = m.decoder.embedTokens, case let .bf16Stored(h) = m.decoder.head.weight {
            #expect(e != h)
        }
    }

    /// The tower's 2-D RoPE table equals timm's buffer (`rope.get_embed()`), layout [sin | cos].
    @Test(arguments: [("gar-tiny", "pe_tiny"), ("gar-tiny-8bform", "pe_tiny_8bform")])
    func visionRopeTable(_ pair: (String, String)) throws {
        let m = try Fixtures.model(pair.0)
        let table = try #require(m.encoder.rope)
        let file = try SafeTensorsFile(path: Fixtures.path("goldens/unit/pe_rope.safetensors"))
        let rows = try file.view("rows").integers().map { Int($0) }
        let want = try file.view("\(pair.1).rows").tensor().storage
        let D = table.headDim
        var got: [Float] = []
        for r in rows {
            let lo = r * D, hi = (r + 1) * D
            got.append(contentsOf: table.sin[lo ..< hi])
            got.append(contentsOf: table.cos[lo ..< hi])
        }
        // libm sinf/cosf vs torch's vectorised ones: ≤ 1 ulp of values ≤ 1.
        let (d, _) = maxAbsDiff(got, want)
        #expect(d <= 2.4e-7, "max |Δ| \(d)")
        let sums = try file.view("\(pair.1).row_sums").tensor().storage
        var ours = [Float](repeating: 0, count: 1024)
        for r in 0 ..< 1024 {
            var s = 0.0
            for c in 0 ..< D { s += Double(table.sin[r * D + c]) + Double(table.cos[r * D + c]) }
            ours[r] = Float(s)
        }
        #expect(maxAbsDiff(ours, sums).diff <= 2e-5)
    }

    /// The decoder's llama3 inv_freq equals transformers' bit for bit.
    @Test(arguments: [("gar-tiny", "gar_tiny"), ("gar-tiny-8bform", "gar_tiny_8bform")])
    func llama3InvFreq(_ pair: (String, String)) throws {
        let m = try Fixtures.model(pair.0)
        let golden = try unitGoldenJSON("llama3_inv_freq.json") as! [String: Any]
        let bits = ((golden[pair.1] as! [String: Any])["inv_freq_f32_bits"] as! [Int]).map { UInt32(bitPattern: Int32($0)) }
        #expect(m.decoder.invFreq.map(\.bitPattern) == bits)
    }

    // MARK: broken model directories

    /// Copies the tiny checkpoint into a temporary directory and lets `edit` break it.
    func brokenModel(_ edit: (URL) throws -> Void) throws -> String {
        let dir = TestTemp.directory("gar-models-test").appendingPathComponent("model")   // copyItem creates it
        try FileManager.default.copyItem(atPath: Fixtures.path("gar-tiny"), toPath: dir.path)
        try edit(dir)
        return dir.path
    }

    func loadError(_ path: String) -> String {
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try GARModel.load(directory: path)
            return "loaded"
        } catch {
            return "\(error)"
        }
    }

    @Test func missingDirectory() {
        let msg = loadError("/nonexistent/gar-model")
        #expect(msg.contains("/nonexistent/gar-model") && msg.contains("no such model directory"))
    }

    @Test(arguments: ["config.json", "tokenizer.json", "preprocessor_config.json", "model.safetensors"])
    func missingFile(_ name: String) throws {
        let path = try brokenModel { try FileManager.default.removeItem(at: $0.appendingPathComponent(name)) }
        let msg = loadError(path)
        #expect(msg.contains(name) && !msg.contains("\n"), "\(msg)")
    }

    @Test func truncatedWeights() throws {
        let path = try brokenModel { dir in
            let url = dir.appendingPathComponent("model.safetensors")
            let data = try Data(contentsOf: url)
            try data.prefix(data.count / 2).write(to: url)
        }
        let msg = loadError(path)
        #expect(msg.contains("model.safetensors") && !msg.contains("\n"), "\(msg)")
    }

    @Test func corruptConfig() throws {
        let path = try brokenModel { dir in
            let url = dir.appendingPathComponent("config.json")
            var text = try String(contentsOf: url, encoding: .utf8)
            text = text.replacingOccurrences(of: "\"hidden_size\": 64", with: "\"hidden_size\": 80")
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let msg = loadError(path)
        // The weights no longer match the config: the strict loader lists mismatches by name.
        #expect(msg.contains("embed_tokens.weight") && msg.contains("wrong shape"), "\(msg)")
    }

    /// The same checkpoint split into two shards with a model.safetensors.index.json (the GAR-8B
    /// layout) loads and answers identically.
    @Test func shardedCheckpoint() throws {
        let path = try brokenModel { dir in
            let url = dir.appendingPathComponent("model.safetensors")
            let file = try SafeTensorsFile(path: url.path)
            var shards = [SafeTensorsWriter(), SafeTensorsWriter()]
            var weightMap: [String] = []
            for (i, info) in file.tensors.enumerated() {
                let shard = info.name.contains("vision_tower") ? 0 : 1
                shards[shard].add(.init(name: info.name, dtype: info.dtype, shape: info.shape, bytes: Array(try file.view(info.name).bytes)))
                weightMap.append("\"\(info.name)\": \"model-0000\(shard + 1)-of-00002.safetensors\"")
                _ = i
            }
            for (k, shard) in shards.enumerated() { try shard.write(to: dir.appendingPathComponent("model-0000\(k + 1)-of-00002.safetensors")) }
            try FileManager.default.removeItem(at: url)
            try Data("{\"metadata\": {}, \"weight_map\": {\(weightMap.joined(separator: ", "))}}".utf8)
                .write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sharded = try GARModel.load(directory: path)
        let single = try Fixtures.model("gar-tiny")
        let ids = [1200, 1200, 1206, 82, 88, 300, 17]
        let a = sharded.forward(sharded.embed(ids), rows: ids.count, state: sharded.makeDecoderState(capacity: ids.count))
        let b = single.forward(single.embed(ids), rows: ids.count, state: single.makeDecoderState(capacity: ids.count))
        #expect(a == b)
    }

    @Test func extraTensorIsReportedAsUnused() throws {
        let path = try brokenModel { dir in
            let url = dir.appendingPathComponent("model.safetensors")
            let file = try SafeTensorsFile(path: url.path)
            var writer = SafeTensorsWriter()
            for info in file.tensors {
                writer.add(.init(name: info.name, dtype: info.dtype, shape: info.shape, bytes: Array(try file.view(info.name).bytes)))
            }
            writer.add(.init(name: "mllm.model.extra.weight", dtype: .f32, shape: [2], bytes: [UInt8](repeating: 0, count: 8)))
            try writer.write(to: url)
        }
        let msg = loadError(path)
        #expect(msg.contains("unused") && msg.contains("mllm.model.extra.weight"), "\(msg)")
    }
}
