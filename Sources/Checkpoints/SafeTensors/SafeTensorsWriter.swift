// Writing safetensors files (tests, tools and activation dumps). The layout is the reference
// writer's: header padded with spaces to a multiple of 8 bytes, tensors in the given order,
// back to back.
import Foundation
import Tensors

public struct SafeTensorsWriter {
    public struct Entry {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        public var bytes: [UInt8]

        public init(name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        /// A Float32 tensor stored as F32, BF16 or F16 (rounded to nearest even).
        public init(name: String, tensor: Tensor, as dtype: DType = .f32) {
            precondition(dtype == .f32 || dtype == .bf16 || dtype == .f16, "Entry: \(dtype) is not a float format")
            self.name = name
            self.dtype = dtype
            self.shape = tensor.shape
            switch dtype {
            case .f32:
                self.bytes = tensor.storage.withUnsafeBytes { Array($0) }
            default:
                var bits = [UInt16](repeating: 0, count: tensor.count)
                tensor.withUnsafeBufferPointer { src in
                    bits.withUnsafeMutableBufferPointer { dst in
                        if dtype == .bf16 { Convert.f32ToBF16(src, dst) } else { Convert.f32ToF16(src, dst) }
                    }
                }
                self.bytes = bits.withUnsafeBytes { Array($0) }
            }
        }
    }

    public var entries: [Entry] = []
    public var metadata: [String: String] = [:]

    public init() {}

    public mutating func add(_ entry: Entry) { entries.append(entry) }

    /// The complete file contents.
    public func serialized() -> [UInt8] {
        var offset = 0
        var fields: [String] = []
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
            fields.append("\"__metadata__\":{\(m)}")
        }
        for e in entries {
            let shape = e.shape.map(String.init).joined(separator: ",")
            fields.append("\(jsonString(e.name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + e.bytes.count)]}")
            offset += e.bytes.count
        }
        var header = Array("{\(fields.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for e in entries { out.append(contentsOf: e.bytes) }
        return out
    }

    /// Writes the file (through a temporary sibling and a rename).
    public func write(to url: URL) throws {
        let data = Data(serialized())
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try data.write(to: tmp)
            if rename(tmp.path, url.path) != 0 { throw CheckpointError.io(path: url.path, reason: String(cString: strerror(errno))) }
        } catch let error as CheckpointError {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw CheckpointError.io(path: url.path, reason: "\(error.localizedDescription)")
        }
    }
}

/// JSON string literal with the escapes JSON requires.
func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}
