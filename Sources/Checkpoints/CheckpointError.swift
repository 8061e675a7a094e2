// Errors of the Checkpoints module. Every description is one line that names the input (file,
// tensor or config field) and the problem.

public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// The file system refused (missing file, permission, mmap failure).
    case io(path: String, reason: String)
    /// A safetensors file is malformed (header, offsets, dtypes, sizes).
    case malformed(path: String, reason: String)
    /// A shard index (`model.safetensors.index.json`) is malformed or points nowhere.
    case shardIndex(path: String, reason: String)
    /// A tensor that was asked for does not exist.
    case missingTensor(name: String, source: String)
    /// A tensor exists but cannot be read as asked (dtype, shape).
    case tensor(name: String, source: String, reason: String)
    /// A config file is malformed: `file: field.path: problem`.
    case config(file: String, field: String, problem: String)
    /// Strict loading found missing, unused or mis-shaped weights (all of them, by name).
    case load(LoadReport)

    public var description: String {
        switch self {
        case let .io(path, reason): return "\(path): \(reason)"
        case let .malformed(path, reason): return "\(path): not a valid safetensors file: \(reason)"
        case let .shardIndex(path, reason): return "\(path): \(reason)"
        case let .missingTensor(name, source): return "\(source): no tensor named '\(name)'"
        case let .tensor(name, source, reason): return "\(source): tensor '\(name)': \(reason)"
        case let .config(file, field, problem): return field.isEmpty ? "\(file): \(problem)" : "\(file): \(field): \(problem)"
        case let .load(report): return report.description
        }
    }
}

/// The outcome of a strict load: what the model asked for and the checkpoint lacked, what the
/// checkpoint held and nobody used, and shape disagreements.
public struct LoadReport: Equatable, Sendable, CustomStringConvertible {
    public struct Mismatch: Equatable, Sendable {
        public let name: String
        public let expected: [Int]
        public let found: [Int]
    }

    public var source: String
    public var missing: [String] = []
    public var unused: [String] = []
    public var mismatched: [Mismatch] = []
    /// Tensors that exist but could not be converted (e.g. an integer dtype where floats are needed).
    public var unreadable: [String] = []
    /// Loading stopped before the model asked for every tensor (too many placeholders).
    public var stoppedEarly = false

    public init(source: String) { self.source = source }

    public var isClean: Bool { missing.isEmpty && unused.isEmpty && mismatched.isEmpty && unreadable.isEmpty }

    public var description: String {
        func list(_ names: [String]) -> String {
            let shown = names.prefix(8).joined(separator: ", ")
            return names.count > 8 ? "\(shown), … and \(names.count - 8) more" : shown
        }
        var parts: [String] = []
        if !missing.isEmpty { parts.append("\(missing.count) missing (\(list(missing)))") }
        if !mismatched.isEmpty {
            parts.append("\(mismatched.count) with the wrong shape (\(list(mismatched.map { "\($0.name): expected \($0.expected), found \($0.found)" })))")
        }
        if !unused.isEmpty { parts.append("\(unused.count) unused (\(list(unused)))") }
        if !unreadable.isEmpty { parts.append("\(unreadable.count) unreadable (\(list(unreadable)))") }
        let tail = stoppedEarly ? " (loading stopped early; there may be more)" : ""
        return "\(source): checkpoint does not match the model: " + parts.joined(separator: "; ") + tail
    }
}
