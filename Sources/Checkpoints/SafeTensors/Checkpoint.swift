// A checkpoint directory: one `model.safetensors`, or shards listed by
// `model.safetensors.index.json` (Hugging Face layout: {"metadata": {...}, "weight_map":
// {tensor name: shard file name}}).
import Foundation
import JSONCore
import Tensors

/// All tensors of a model, across one or more safetensors files.
public final class Checkpoint: Sendable {
    /// Directory (or the single file's path) used in messages.
    public let source: String
    public let files: [SafeTensorsFile]
    /// Tensor names, sorted.
    public let names: [String]
    private let location: [String: Int]

    public static let indexFileName = "model.safetensors.index.json"
    public static let singleFileName = "model.safetensors"

    /// Opens `directory`: the shard index if present, else `model.safetensors`.
    public convenience init(directory: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir) else {
            throw CheckpointError.io(path: directory, reason: "no such directory")
        }
        guard isDir.boolValue else { throw CheckpointError.io(path: directory, reason: "not a directory") }
        let dir = URL(fileURLWithPath: directory)
        let index = dir.appendingPathComponent(Checkpoint.indexFileName).path
        if fm.fileExists(atPath: index) {
            try self.init(index: index)
        } else {
            let single = dir.appendingPathComponent(Checkpoint.singleFileName).path
            guard fm.fileExists(atPath: single) else {
                throw CheckpointError.io(path: directory, reason: "no \(Checkpoint.singleFileName) or \(Checkpoint.indexFileName)")
            }
            try self.init(files: [SafeTensorsFile(path: single)], source: directory)
        }
    }

    /// Opens the shards named by an index file and checks that the index and shards agree.
    public convenience init(index path: String) throws {
        func bad(_ reason: String) -> CheckpointError { .shardIndex(path: path, reason: reason) }
        let data: [UInt8]
        do { data = Array(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw CheckpointError.io(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        let json: JSONValue
        do { json = try StrictJSON.parse(data) } catch { throw bad("\(error)") }
        guard case let .object(top) = json else { throw bad("not a JSON object") }
        guard let wm = top.first(where: { $0.0 == "weight_map" })?.1 else { throw bad("weight_map: missing") }
        guard case let .object(entries) = wm else { throw bad("weight_map: not an object") }
        var shardOrder: [String] = []
        var wanted: [String: [String]] = [:]  // shard → tensor names
        for (name, value) in entries {
            guard case let .string(file) = value else { throw bad("weight_map.\(name): not a string") }
            guard !file.isEmpty, !file.contains("/"), file != "..", file != "." else {
                throw bad("weight_map.\(name): shard name \"\(file)\" is not a plain file name")
            }
            if wanted[file] == nil { shardOrder.append(file) }
            wanted[file, default: []].append(name)
        }
        guard !shardOrder.isEmpty else { throw bad("weight_map is empty") }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
        var files: [SafeTensorsFile] = []
        for shard in shardOrder {
            let shardPath = dir.appendingPathComponent(shard).path
            guard FileManager.default.fileExists(atPath: shardPath) else {
                throw bad("shard \(shard) (holding \(wanted[shard]!.first!) and \(wanted[shard]!.count - 1) more) does not exist")
            }
            let file = try SafeTensorsFile(path: shardPath)
            let present = Set(file.names)
            if let missing = wanted[shard]!.first(where: { !present.contains($0) }) {
                throw bad("weight_map puts \(missing) in \(shard), which does not contain it")
            }
            let listed = Set(wanted[shard]!)
            if let extra = file.names.first(where: { !listed.contains($0) }) {
                throw bad("\(shard) holds \(extra), which weight_map does not list")
            }
            files.append(file)
        }
        try self.init(files: files, source: dir.path)
    }

    /// A checkpoint over already opened files (tensor names must be unique across files).
    public init(files: [SafeTensorsFile], source: String) throws {
        var location: [String: Int] = [:]
        for (i, f) in files.enumerated() {
            for name in f.names {
                if let j = location[name] {
                    throw CheckpointError.malformed(path: f.path, reason: "tensor '\(name)' also appears in \(files[j].path)")
                }
                location[name] = i
            }
        }
        self.files = files
        self.source = source
        self.location = location
        self.names = location.keys.sorted()
    }

    public func contains(_ name: String) -> Bool { location[name] != nil }

    public func info(_ name: String) -> TensorInfo? { location[name].flatMap { files[$0].info(name) } }

    /// The file holding `name`.
    public func file(of name: String) -> SafeTensorsFile? { location[name].map { files[$0] } }

    public func view(_ name: String) throws -> RawTensorView {
        guard let i = location[name] else { throw CheckpointError.missingTensor(name: name, source: source) }
        return try files[i].view(name)
    }

    public func tensor(_ name: String) throws -> Tensor { try view(name).tensor() }

    /// Total bytes of tensor data.
    public var dataBytes: Int { files.reduce(0) { $0 + $1.tensors.reduce(0) { $0 + $1.dataRange.count } } }
}
