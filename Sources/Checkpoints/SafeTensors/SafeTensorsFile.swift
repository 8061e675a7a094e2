// Reading one safetensors file: header validation, metadata, raw views and Float32 tensors.
//
// Format (https://github.com/huggingface/safetensors): 8 bytes little-endian header length N,
// N bytes of JSON (an object: tensor name → {dtype, shape, data_offsets}, plus an optional
// "__metadata__" object of strings), then the data section. Offsets are relative to the data
// section. Validation follows the reference implementation and is strict: every tensor's byte
// range must equal shape × dtype size, ranges may not overlap, and together they must cover the
// data section exactly (no gaps, nothing after the last tensor).
import CKernels
import JSONCore
import Tensors

/// Where a tensor lives in a file.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Byte range within the data section.
    public let dataRange: Range<Int>

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A tensor's bytes inside a mapped file (no copy). Keeps the mapping alive.
public struct RawTensorView: @unchecked Sendable {
    // @unchecked: points into an immutable read-only mapping owned by `file`.
    public let info: TensorInfo
    public let bytes: UnsafeRawBufferPointer
    public let file: MappedFile

    /// The values of an integer or bool tensor as Int64 (goldens, ids).
    public func integers() throws -> [Int64] {
        let n = info.elementCount
        func load<T: FixedWidthInteger>(_: T.Type) -> [Int64] {
            (0 ..< n).map { Int64(bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
        }
        switch info.dtype {
        case .bool, .u8: return load(UInt8.self)
        case .i8: return load(Int8.self)
        case .u16: return load(UInt16.self)
        case .i16: return load(Int16.self)
        case .u32: return load(UInt32.self)
        case .i32: return load(Int32.self)
        case .i64: return load(Int64.self)
        case .u64: return (0 ..< n).map { Int64(bitPattern: bytes.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
        default:
            throw CheckpointError.tensor(name: info.name, source: file.path, reason: "dtype \(info.dtype.rawValue) is not an integer type")
        }
    }

    /// The raw bytes of a U8/I8/BOOL tensor.
    public func uint8Values() throws -> [UInt8] {
        guard info.dtype.size == 1 else {
            throw CheckpointError.tensor(name: info.name, source: file.path, reason: "dtype \(info.dtype.rawValue) is not a byte type")
        }
        return Array(bytes)
    }

    /// The 16-bit patterns of a BF16/F16/U16/I16 tensor.
    public func uint16Values() throws -> [UInt16] {
        guard info.dtype.size == 2 else {
            throw CheckpointError.tensor(name: info.name, source: file.path, reason: "dtype \(info.dtype.rawValue) is not 16-bit")
        }
        return (0 ..< info.elementCount).map { bytes.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self) }
    }

    /// Converts to Float32 into `out` (which must hold `elementCount` values), in parallel for
    /// large tensors. F32 is copied, BF16/F16 widened exactly, F64 rounded.
    public func convert(into out: UnsafeMutableBufferPointer<Float>) throws {
        let n = info.elementCount
        precondition(out.count >= n, "RawTensorView.convert: output too short")
        guard n > 0 else { return }
        let dst = out.baseAddress!
        switch info.dtype {
        case .f32:
            UnsafeMutableRawPointer(dst).copyMemory(from: bytes.baseAddress!, byteCount: n * 4)
        case .bf16, .f16:
            let src = bytes.baseAddress!
            if Int(bitPattern: src) % 2 == 0 {
                let s = src.assumingMemoryBound(to: UInt16.self)
                let buffer = UnsafeBufferPointer(start: s, count: n)
                if info.dtype == .bf16 { Convert.bf16ToF32(buffer, out) } else { Convert.f16ToF32(buffer, out) }
            } else {
                // Misaligned 16-bit data (legal, but never written by the reference writer): go via a copy.
                var tmp = [UInt16](repeating: 0, count: n)
                tmp.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0 ..< n * 2])) }
                tmp.withUnsafeBufferPointer { t in
                    if info.dtype == .bf16 { Convert.bf16ToF32(t, out) } else { Convert.f16ToF32(t, out) }
                }
            }
        case .f64:
            for i in 0 ..< n { dst[i] = Float(bytes.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
        default:
            throw CheckpointError.tensor(name: info.name, source: file.path,
                                         reason: "dtype \(info.dtype.rawValue) cannot be read as floating point")
        }
    }

    /// A Float32 `Tensor` with the stored shape.
    public func tensor() throws -> Tensor {
        var failure: Error?
        let t = Tensor(shape: info.shape, unsafeUninitialized: { out in
            do { try convert(into: out) } catch {
                failure = error
                out.initialize(repeating: 0)
            }
        })
        if let failure { throw failure }
        return t
    }
}

/// One memory-mapped safetensors file with a validated header.
public final class SafeTensorsFile: Sendable {
    public let path: String
    public let file: MappedFile
    /// Tensors in data order.
    public let tensors: [TensorInfo]
    /// `__metadata__` (empty when absent).
    public let metadata: [String: String]
    /// Offset of the data section in the file.
    public let dataOffset: Int
    private let byName: [String: Int]

    /// Largest accepted header (the reference implementation's limit).
    public static let maxHeaderSize = 100_000_000

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        self.path = file.path
        let path = file.path
        func bad(_ reason: String) -> CheckpointError { .malformed(path: path, reason: reason) }
        let bytes = file.bytes
        guard bytes.count >= 8 else { throw bad("file is \(bytes.count) bytes, shorter than the 8-byte header length") }
        let headerLength = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw bad("header length \(headerLength) goes beyond the end of the file (\(bytes.count) bytes)")
        }
        guard headerLength <= UInt64(SafeTensorsFile.maxHeaderSize) else { throw bad("header length \(headerLength) exceeds 100 MB") }
        guard headerLength >= 2 else { throw bad("header length \(headerLength) is too small for a JSON object") }
        let n = Int(headerLength)
        let header = UnsafeRawBufferPointer(rebasing: bytes[8 ..< 8 + n])
        guard header[0] == UInt8(ascii: "{") else { throw bad("header does not start with '{'") }
        let json: JSONValue
        do { json = try StrictJSON.parse(header) } catch { throw bad("header: \(error)") }
        guard case let .object(members) = json else { throw bad("header is not a JSON object") }

        let dataSize = bytes.count - 8 - n
        var infos: [TensorInfo] = []
        var meta: [String: String] = [:]
        for (name, value) in members {
            if name == "__metadata__" {
                guard case let .object(entries) = value else { throw bad("__metadata__ is not an object") }
                for (k, v) in entries {
                    guard case let .string(s) = v else { throw bad("__metadata__.\(k) is a \(v.kind), not a string") }
                    meta[k] = s
                }
                continue
            }
            infos.append(try SafeTensorsFile.parseEntry(name: name, value: value, dataSize: dataSize, bad: bad))
        }
        // Ranges must tile the data section: sorted by start, each starts where the previous ended.
        infos.sort { ($0.dataRange.lowerBound, $0.dataRange.upperBound) < ($1.dataRange.lowerBound, $1.dataRange.upperBound) }
        var cursor = 0
        for info in infos {
            if info.dataRange.lowerBound < cursor {
                throw bad("tensor '\(info.name)' bytes \(info.dataRange) overlap the previous tensor (which ends at \(cursor))")
            }
            if info.dataRange.lowerBound > cursor {
                throw bad("gap in the data section before tensor '\(info.name)' (bytes \(cursor)..<\(info.dataRange.lowerBound) unused)")
            }
            cursor = info.dataRange.upperBound
        }
        guard cursor == dataSize else {
            throw bad("tensors cover \(cursor) of the \(dataSize) data bytes (truncated or trailing data)")
        }
        self.tensors = infos
        self.metadata = meta
        self.dataOffset = 8 + n
        var index: [String: Int] = [:]
        for (i, t) in infos.enumerated() { index[t.name] = i }
        self.byName = index
    }

    private static func parseEntry(name: String, value: JSONValue, dataSize: Int,
                                   bad: (String) -> CheckpointError) throws -> TensorInfo {
        guard !name.isEmpty else { throw bad("empty tensor name") }
        guard case let .object(fields) = value else { throw bad("entry '\(name)' is a \(value.kind), not an object") }
        var dtype: DType?, shape: [Int]?, range: Range<Int>?
        for (key, v) in fields {
            switch key {
            case "dtype":
                guard case let .string(s) = v else { throw bad("'\(name)'.dtype is a \(v.kind), not a string") }
                guard let d = DType(rawValue: s) else { throw bad("'\(name)' has unknown dtype \"\(s)\"") }
                dtype = d
            case "shape":
                guard case let .array(dims) = v else { throw bad("'\(name)'.shape is a \(v.kind), not an array") }
                shape = try dims.map { d in
                    guard case let .integer(x) = d, x >= 0, x <= Int64(Int32.max) * 1024 else {
                        throw bad("'\(name)'.shape has an invalid dimension \(d)")
                    }
                    return Int(x)
                }
            case "data_offsets":
                guard case let .array(pair) = v, pair.count == 2,
                      case let .integer(b) = pair[0], case let .integer(e) = pair[1] else {
                    throw bad("'\(name)'.data_offsets is not a pair of integers")
                }
                guard b >= 0, e >= b else { throw bad("'\(name)'.data_offsets [\(b), \(e)] is reversed or negative") }
                guard e <= Int64(dataSize) else {
                    throw bad("'\(name)'.data_offsets [\(b), \(e)] lie outside the \(dataSize)-byte data section")
                }
                range = Int(b) ..< Int(e)
            default:
                throw bad("'\(name)' has an unknown field \"\(key)\"")
            }
        }
        guard let dtype else { throw bad("'\(name)' has no dtype") }
        guard let shape else { throw bad("'\(name)' has no shape") }
        guard let range else { throw bad("'\(name)' has no data_offsets") }
        var count = 1
        for d in shape {
            let (m, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw bad("'\(name)' shape \(shape) overflows") }
            count = m
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow, bytes == range.count else {
            throw bad("'\(name)' shape \(shape) × \(dtype.rawValue) needs \(overflow ? "too many" : String(bytes)) bytes but data_offsets span \(range.count)")
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, dataRange: range)
    }

    /// Tensor names in data order.
    public var names: [String] { tensors.map(\.name) }

    public func info(_ name: String) -> TensorInfo? { byName[name].map { tensors[$0] } }

    /// The raw bytes of a tensor (no copy).
    public func view(_ name: String) throws -> RawTensorView {
        guard let info = info(name) else { throw CheckpointError.missingTensor(name: name, source: path) }
        let start = dataOffset + info.dataRange.lowerBound
        return RawTensorView(info: info, bytes: UnsafeRawBufferPointer(rebasing: file.bytes[start ..< start + info.dataRange.count]), file: file)
    }

    /// A tensor converted to Float32.
    public func tensor(_ name: String) throws -> Tensor { try view(name).tensor() }
}
