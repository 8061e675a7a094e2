// RoPE tables against the model-fixture generator's unit goldens (Tests/Fixtures/goldens/unit,
// written by Tests/Fixtures/generate/generate.py from HF/timm), independent of our op goldens.
import Checkpoints
import Foundation
import Testing
@testable import Tensors

@Suite struct FixtureRopeTests {
    static let unit = repositoryRoot.appendingPathComponent("Tests/Fixtures/goldens/unit")

    struct InvFreqCase: Decodable {
        let head_dim: Int
        let rope_theta: Double
        let rope_scaling: [String: JSONNumberOrString]
        let inv_freq_f32_bits: [UInt32]
    }

    enum JSONNumberOrString: Decodable {
        case number(Double), string(String)
        init(from d: Decoder) throws {
            let c = try d.singleValueContainer()
            if let v = try? c.decode(Double.self) { self = .number(v) } else { self = .string(try c.decode(String.self)) }
        }
        var double: Double { if case let .number(v) = self { return v }; return .nan }
    }

    /// HF `_compute_llama3_parameters` float32 results: ours within 1 ulp (powf vs torch pow).
    @Test func llama3InvFreq() throws {
        let data = try Data(contentsOf: Self.unit.appendingPathComponent("llama3_inv_freq.json"))
        let cases = try JSONDecoder().decode([String: InvFreqCase].self, from: data)
        #expect(cases.count >= 3)
        for (name, c) in cases {
            let s = c.rope_scaling
            let ours = Rope.llama3InvFreq(headDim: c.head_dim, theta: Float(c.rope_theta), factor: Float(s["factor"]!.double),
                                          lowFreqFactor: Float(s["low_freq_factor"]!.double), highFreqFactor: Float(s["high_freq_factor"]!.double),
                                          originalMaxPositions: Int(s["original_max_position_embeddings"]!.double))
            let theirs = c.inv_freq_f32_bits.map { Float(bitPattern: $0) }
            for i in 0 ..< theirs.count {
                #expect(abs(ours[i] - theirs[i]) <= theirs[i].ulp, "\(name)[\(i)]: \(ours[i]) vs \(theirs[i])")
            }
        }
    }

    /// timm PE 2-D tables ([1024, 2·head_dim] = sin | cos): sampled rows and every row sum.
    @Test(arguments: [("pe_1b", 64, Float(1)), ("pe_8b", 96, Float(0)), ("pe_tiny", 16, Float(1)), ("pe_tiny_8bform", 12, Float(0))])
    func visionTables(name: String, headDim D: Int, offset: Float) throws {
        let f = try SafeTensorsFile(path: Self.unit.appendingPathComponent("pe_rope.safetensors").path)
        let table = Rope.visionTable(gridHeight: 32, gridWidth: 32, headDim: D, gridOffset: offset, refFeatHeight: 32, refFeatWidth: 32)
        let rows = try f.view("rows").integers().map { Int($0) }
        let sampled = try f.tensor("\(name).rows")
        for (i, r) in rows.enumerated() {
            for d in 0 ..< D {
                // sinf/cosf vs torch's vectorised sin/cos of the same Float32 angle (≤ 33 rad)
                #expect(abs(table.sin[r * D + d] - sampled[i, d]) <= 5e-7)
                #expect(abs(table.cos[r * D + d] - sampled[i, D + d]) <= 5e-7)
            }
        }
        let sums = try f.tensor("\(name).row_sums")
        for p in 0 ..< 1024 {
            var s = 0.0
            for d in 0 ..< D { s += Double(table.sin[p * D + d]) + Double(table.cos[p * D + d]) }
            #expect(abs(Float(s) - sums.storage[p]) <= 1e-4, "row \(p)")
        }
    }
}
