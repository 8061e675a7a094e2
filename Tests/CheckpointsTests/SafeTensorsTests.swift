// safetensors reading: round trips, every malformed-header class, and a seeded fuzz.
import Foundation
import JSONCore
import Testing
@testable import Checkpoints
import Tensors

@Suite struct SafeTensorsTests {
    func sample() -> SafeTensorsWriter {
        var w = SafeTensorsWriter()
        w.metadata = ["format": "pt", "note": "tab\there \"quoted\""]
        w.add(.init(name: "f32", tensor: Tensor(shape: [2, 3], [1, 2, 3, 4, 5, -6]), as: .f32))
        w.add(.init(name: "bf16", tensor: Tensor(shape: [3], [1.5, -2, 3.0e38]), as: .bf16))
        w.add(.init(name: "f16", tensor: Tensor(shape: [2, 2], [0.5, -0.25, 65504, 1e-7]), as: .f16))
        w.add(.init(name: "scalar", tensor: Tensor(shape: [], [7]), as: .f32))
        w.add(.init(name: "empty", tensor: Tensor(shape: [0, 4]), as: .f32))
        w.add(.init(name: "ids", dtype: .i64, shape: [3], bytes: [Int64(-1), 2, 1 << 40].flatMap { v in withUnsafeBytes(of: v.littleEndian, Array.init) }))
        w.add(.init(name: "mask", dtype: .bool, shape: [2], bytes: [1, 0]))
        w.add(.init(name: "u8", dtype: .u8, shape: [2, 2], bytes: [0, 1, 254, 255]))
        w.add(.init(name: "i32", dtype: .i32, shape: [1], bytes: withUnsafeBytes(of: Int32(-5).littleEndian, Array.init)))
        w.add(.init(name: "f64", dtype: .f64, shape: [1], bytes: withUnsafeBytes(of: (0.1 as Double).bitPattern.littleEndian, Array.init)))
        w.add(.init(name: "unicode ✓ name", tensor: Tensor(shape: [1], [3]), as: .f32))
        return w
    }

    func open(_ bytes: [UInt8]) throws -> SafeTensorsFile {
        try SafeTensorsFile(file: MappedFile(copying: bytes, name: "test.safetensors"))
    }

    @Test func roundTrip() throws {
        let f = try open(sample().serialized())
        #expect(f.metadata == ["format": "pt", "note": "tab\there \"quoted\""])
        #expect(try f.tensor("f32") == Tensor(shape: [2, 3], [1, 2, 3, 4, 5, -6]))
        #expect(try f.tensor("bf16").storage == [1.5, -2, Float(bitPattern: 0x7F62_0000)])  // 3e38 rounded to bf16
        #expect(try f.tensor("f16").storage == [0.5, -0.25, 65504, Float(Float16(1e-7 as Float))])
        #expect(try f.tensor("scalar").storage == [7])
        #expect(try f.tensor("empty").shape == [0, 4])
        #expect(try f.view("ids").integers() == [-1, 2, 1 << 40])
        #expect(try f.view("mask").integers() == [1, 0])
        #expect(try f.view("u8").uint8Values() == [0, 1, 254, 255])
        #expect(try f.view("i32").integers() == [-5])
        #expect(try f.tensor("f64").storage == [Float(0.1)])
        #expect(try f.tensor("unicode ✓ name").storage == [3])
        #expect(throws: CheckpointError.self) { try f.tensor("ids") }  // integers are not floats
        #expect(throws: CheckpointError.missingTensor(name: "nope", source: "test.safetensors")) { try f.view("nope") }
    }

    @Test func fileOnDiskIsMapped() throws {
        let dir = try TempDir()
        try sample().write(to: dir.url.appendingPathComponent("x.safetensors"))
        let f = try SafeTensorsFile(path: dir.path("x.safetensors"))
        #expect(f.names.count == 11)
        #expect(try f.tensor("f32").storage == [1, 2, 3, 4, 5, -6])
        #expect(throws: CheckpointError.self) { try SafeTensorsFile(path: dir.path("missing.safetensors")) }
        #expect(throws: CheckpointError.self) { try SafeTensorsFile(path: dir.url.path) }  // a directory
    }

    /// Builds a file from a raw header string and a data section.
    func file(header: String, data: [UInt8], length: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        return withUnsafeBytes(of: (length ?? UInt64(h.count)).littleEndian, Array.init) + h + data
    }

    func expectMalformed(_ bytes: [UInt8], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try open(bytes)
            Issue.record("accepted a malformed file (expected: \(fragment))", sourceLocation: sourceLocation)
        } catch let e as CheckpointError {
            guard case .malformed = e else { Issue.record("wrong error \(e)", sourceLocation: sourceLocation); return }
            #expect(e.description.contains(fragment), "\(e)", sourceLocation: sourceLocation)
            #expect(!e.description.contains("\n"), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error type \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func malformedHeadersAreRejected() {
        let four = [UInt8](repeating: 0, count: 4)
        let t = #""a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#
        expectMalformed([1, 2, 3], "shorter than the 8-byte header length")
        expectMalformed(file(header: "{\(t)}", data: four, length: 1000), "goes beyond the end of the file")
        expectMalformed(file(header: "{\(t)}", data: four, length: UInt64.max), "goes beyond the end of the file")
        expectMalformed(file(header: "{\(t)", data: four), "invalid JSON")
        expectMalformed(file(header: "[1,2]", data: []), "does not start with '{'")
        expectMalformed(file(header: "{\(t),\(t)}", data: four), "duplicate key")
        expectMalformed(file(header: #"{"a":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}}"#, data: four), "unknown dtype \"F17\"")
        expectMalformed(file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: four), "needs 8 bytes but data_offsets span 4")
        expectMalformed(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}"#, data: four), "outside the 4-byte data section")
        expectMalformed(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: four), "reversed or negative")
        expectMalformed(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#,
                            data: [UInt8](repeating: 0, count: 8)), "overlap")
        expectMalformed(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: [UInt8](repeating: 0, count: 8)), "gap")
        expectMalformed(file(header: "{\(t)}", data: [UInt8](repeating: 0, count: 12)), "cover 4 of the 12 data bytes")
        expectMalformed(file(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: four), "invalid dimension")
        expectMalformed(file(header: #"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: four), "invalid dimension")
        expectMalformed(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}"#, data: four), "unknown field")
        expectMalformed(file(header: #"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, data: four), "has no dtype")
        expectMalformed(file(header: #"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#, data: four), "has no shape")
        expectMalformed(file(header: #"{"a":{"dtype":"F32","shape":[1]}}"#, data: four), "has no data_offsets")
        expectMalformed(file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, data: four), "not a pair of integers")
        expectMalformed(file(header: #"{"a":[1]}"#, data: []), "not an object")
        expectMalformed(file(header: #"{"__metadata__":{"k":1}}"#, data: []), "__metadata__.k is a number")
        expectMalformed(file(header: #"{"__metadata__":[]}"#, data: []), "__metadata__ is not an object")
        expectMalformed(file(header: #"{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}}"#, data: four), "overflows")
        expectMalformed(file(header: String(repeating: "[", count: 500), data: []), "does not start with '{'")
        expectMalformed(file(header: "{\"a\":" + String(repeating: "[", count: 500), data: []), "nesting deeper")
        expectMalformed(file(header: "{\"\\ud800\":1}", data: []), "unpaired surrogate")
    }

    @Test func emptyFileAndZeroTensorsAreFine() throws {
        let f = try open(file(header: "{}", data: []))
        #expect(f.names.isEmpty)
        let padded = try open(file(header: "{}      ", data: []))
        #expect(padded.names.isEmpty)
    }

    /// Thousands of seeded mutations of a valid header: each file either opens (and its tensors
    /// convert) or throws a CheckpointError — never a crash, never another error type.
    @Test func fuzzedHeadersNeverCrash() throws {
        let valid = sample().serialized()
        let headerLength = Int(valid.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var rng = Rng(s: 0xFEED)
        var opened = 0, rejected = 0
        for _ in 0 ..< 4000 {
            var bytes = valid
            let mutations = 1 + rng.below(3)
            for _ in 0 ..< mutations {
                guard bytes.count > 9 else { break }
                let pos = 8 + rng.below(min(headerLength, bytes.count - 8))
                switch rng.below(7) {
                case 0: bytes[pos] = UInt8(truncatingIfNeeded: rng.next())                              // random byte
                case 1: bytes[pos] = Array("{}[]\",:0123456789-.eE \\u".utf8)[rng.below(24)]             // JSON syntax
                case 2: bytes.remove(at: pos)                                                            // deletion
                case 3: bytes.insert(Array("0129,:\"}".utf8)[rng.below(8)], at: pos)                      // insertion
                case 4: bytes = Array(bytes.prefix(rng.below(bytes.count + 1)))                            // truncation
                case 5:                                                                                   // header length
                    let v = UInt64(headerLength) &+ UInt64(bitPattern: Int64(rng.below(41) - 20)) &* (rng.below(10) == 0 ? 1 << 40 : 1)
                    if bytes.count >= 8 { withUnsafeBytes(of: v.littleEndian) { for i in 0 ..< 8 { bytes[i] = $0[i] } } }
                default:                                                                                  // digit change
                    if let d = (pos ..< min(bytes.count, pos + 40)).first(where: { bytes[$0] >= 48 && bytes[$0] <= 57 }) {
                        bytes[d] = UInt8(48 + rng.below(10))
                    }
                }
            }
            do {
                let f = try open(bytes)
                for name in f.names {
                    let v = try f.view(name)
                    if v.info.dtype.convertsToFloat { _ = try v.tensor() } else { _ = try? v.integers() }
                }
                opened += 1
            } catch is CheckpointError {
                rejected += 1
            }
        }
        #expect(opened + rejected == 4000)
        #expect(rejected > 3000, "most mutations must be caught (\(rejected))")
    }

    @Test func strictJSONBasics() throws {
        #expect(try StrictJSON.parse(Array(#" {"a": [1, -2.5e3, true, null, "x\u00e9\n"], "b": {}} "#.utf8))
                == .object([("a", .array([.integer(1), .number(-2500), .bool(true), .null, .string("xé\n")])), ("b", .object([]))]))
        #expect(throws: JSONParseError.self) { try StrictJSON.parse(Array("01".utf8)) }
        #expect(throws: JSONParseError.self) { try StrictJSON.parse(Array("1.".utf8)) }
        #expect(throws: JSONParseError.self) { try StrictJSON.parse(Array("\"\u{01}\"".utf8)) }
        #expect(throws: JSONParseError.self) { try StrictJSON.parse(Array("{\"a\":1}x".utf8)) }
        #expect(throws: JSONParseError.self) { try StrictJSON.parse([0x22, 0xFF, 0x22]) }  // invalid UTF-8
        #expect(try StrictJSON.parse(Array("99999999999999999999".utf8)) == .number(1e20))
    }
}
