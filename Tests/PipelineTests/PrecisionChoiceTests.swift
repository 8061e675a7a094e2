// Choosing the precision (flag > spec model.precision > GAR_PRECISION > CPU default) and reading
// model.precision from a pipeline spec.
import Pipeline
import Tensors
import Testing

@Suite struct PrecisionChoiceTests {
    @Test func order() throws {
        let env = ["GAR_PRECISION": "bf16"]
        #expect(try Precision.resolve(flag: .f32, spec: .bf16, environment: env) == .f32)
        #expect(try Precision.resolve(flag: nil, spec: .f32, environment: env) == .f32)
        #expect(try Precision.resolve(flag: nil, spec: nil, environment: env) == .bf16)
        #expect(try Precision.resolve(flag: nil, spec: nil, environment: ["GAR_PRECISION": "f32"]) == .f32)
        #expect(try Precision.resolve(flag: nil, spec: nil, environment: [:]) == Precision.cpuDefault)
        #expect(try Precision.resolve(flag: nil, spec: nil, environment: ["GAR_PRECISION": ""]) == Precision.cpuDefault)
    }

    @Test func badNames() {
        for (name, message) in [("INT8", "unknown precision 'INT8' (expected one of: f32, bf16, int8)"),
                                ("BF16", "unknown precision 'BF16' (expected one of: f32, bf16, int8)")] {
            do {
                _ = try Precision.parse(name)
                Issue.record("\(name) accepted")
            } catch {
                #expect(error.description == message)
            }
        }
        #expect(throws: PipelineError.invalidInput(what: "GAR_PRECISION", reason: "unknown precision 'fast' (expected one of: f32, bf16, int8)")) {
            try Precision.resolve(flag: nil, environment: ["GAR_PRECISION": "fast"])
        }
    }

    @Test func specModelPrecision() throws {
        let short = try PipelineSpec.parse("model: /models/GAR-1B\n", source: "a.yaml")
        #expect(short.model == "/models/GAR-1B" && short.precision == nil)
        let long = try PipelineSpec.parse("model:\n  path: /models/GAR-1B\n  precision: bf16\n", source: "b.yaml")
        #expect(long.model == "/models/GAR-1B" && long.precision == .bf16)
        let onlyPrecision = try PipelineSpec.parse("model:\n  precision: f32\n", source: "c.yaml")
        #expect(onlyPrecision.model == nil && onlyPrecision.precision == .f32)
        let viaSet = try PipelineSpec.parse("", source: "d.yaml", overrides: ["model.precision=bf16"])
        #expect(viaSet.precision == .bf16)
        #expect(try PipelineSpec.parse("model:\n  precision: int8\n", source: "e.yaml").precision == .int8)
        #expect(try Precision.resolve(flag: nil, spec: nil, environment: ["GAR_PRECISION": "int8"]) == .int8)
        #expect(throws: SpecError.self) { try PipelineSpec.parse("model:\n  precision: int4\n", source: "e.yaml") }
        do {
            _ = try PipelineSpec.parse("model:\n  path: x\n  precision: int4\n", source: "e.yaml")
            Issue.record("int4 accepted")
        } catch {
            #expect("\(error)".contains("e.yaml:3") && "\(error)".contains("model.precision") && "\(error)".contains("unknown precision 'int4'"), "\(error)")
        }
        do {
            _ = try PipelineSpec.parse("model:\n  dir: x\n", source: "f.yaml")
            Issue.record("unknown key accepted")
        } catch {
            #expect("\(error)".contains("model.dir") && "\(error)".contains("unknown key"), "\(error)")
        }
    }
}
