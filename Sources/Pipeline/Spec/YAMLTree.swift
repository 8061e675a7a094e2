// Strict reading of pipeline YAML. Yams parses the text into nodes with line numbers; this file
// turns them into a small tree that the spec reader walks key by key, so that every problem — invalid
// YAML, an unknown or repeated key, a value of the wrong type — is reported with the file, the line
// and the dotted key ("pipelines/x.yaml:7: frames.cout: unknown key (expected one of: count, fps, …)").
// Codable decoding would silently ignore unknown keys, which is exactly what a typo in a job spec
// must not do.
import Foundation
import Yams

/// A problem in a pipeline spec: one line naming the file, the line, the key and the problem.
public struct SpecError: Error, CustomStringConvertible, Equatable {
    /// The YAML file (or "--set" for command-line overrides).
    public var source: String
    /// 1-based line, when known.
    public var line: Int?
    /// Dotted key path, e.g. `frames.count` (empty for the document itself).
    public var key: String
    public var problem: String

    public var description: String {
        let at = line.map { "\(source):\($0)" } ?? source
        return PipelineError.oneLine(key.isEmpty ? "\(at): \(problem)" : "\(at): \(key): \(problem)")
    }
}

/// A YAML node with its position: scalars keep Yams' scalar (for its type resolution).
indirect enum YAMLTree {
    case scalar(Node, line: Int?)
    case mapping([(key: String, keyLine: Int?, value: YAMLTree)], line: Int?)
    case sequence([YAMLTree], line: Int?)

    var line: Int? {
        switch self {
        case let .scalar(_, line), let .mapping(_, line), let .sequence(_, line): return line
        }
    }

    /// Parses `text`; `source` names it in errors. An empty document is an empty mapping.
    static func parse(_ text: String, source: String) throws -> YAMLTree {
        try checkNesting(text, source: source)
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw SpecError(source: source, line: YAMLTree.line(of: error), key: "", problem: "invalid YAML: \(YAMLTree.problem(of: error))")
        } catch {
            throw SpecError(source: source, line: nil, key: "", problem: "invalid YAML: \(error)")
        }
        guard let node else { return .mapping([], line: 1) }
        var budget = maxNodes
        return try convert(node, source: source, path: "", depth: 1, budget: &budget)
    }

    /// Deepest nesting a document may have (a real spec has 3 levels). Yams builds its nodes
    /// recursively, one stack frame per level, so 100,000 `[` crashed with a stack overflow.
    static let maxNesting = 64
    /// Most anchors (`&name`) a document may define: an alias repeats its anchor's node inside
    /// another, so a chain of anchors nests up to (anchors + 1) × maxNesting deep in Yams' nodes.
    static let maxAnchors = 32

    /// Refuses text that could nest deeper than `maxNesting` before the recursive parser sees it.
    /// The bound is cheap and conservative (it never underestimates): a block level needs a column
    /// of indentation or a leading `- ` / `? ` / `: ` indicator (two columns) — except that a
    /// mapping and its list may share a column, hence the "+ 2" — and each open `[` or `{` adds a
    /// level (counted everywhere, even inside quotes or comments, where an unbalanced bracket
    /// only overestimates).
    static func checkNesting(_ text: String, source: String) throws {
        var flow = 0
        var anchors = 0
        var line = 1
        var atLineStart = true   // still in the leading spaces and indicators of the line
        var column = 0
        let bytes = Array(text.utf8)
        for (i, c) in bytes.enumerated() {
            let next = i + 1 < bytes.count ? bytes[i + 1] : UInt8(ascii: "\n")
            // libyaml's line breaks: \n, \r (\r\n counts once), NEL (C2 85), LS and PS (E2 80 A8/A9).
            let lineBreak = c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r")
                || (c == 0x85 && i >= 1 && bytes[i - 1] == 0xC2)
                || ((c == 0xA8 || c == 0xA9) && i >= 2 && bytes[i - 2] == 0xE2 && bytes[i - 1] == 0x80)
            if lineBreak {
                if !(c == UInt8(ascii: "\r") && next == UInt8(ascii: "\n")) { line += 1 }
                atLineStart = true; column = 0
                continue
            }
            if atLineStart {
                let indicator = (c == UInt8(ascii: "-") || c == UInt8(ascii: "?") || c == UInt8(ascii: ":"))
                    && " \t\r\n".utf8.contains(next)
                if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || indicator {
                    column += 1
                } else {
                    atLineStart = false
                }
            }
            if c == UInt8(ascii: "&"), i + 1 < bytes.count, !" \t\n\r".utf8.contains(bytes[i + 1]),
               i == 0 || " \t\n[{,:".utf8.contains(bytes[i - 1]) {
                anchors += 1
                guard anchors <= maxAnchors else {
                    throw SpecError(source: source, line: line, key: "", problem: "more than \(maxAnchors) anchors (&name) in the document")
                }
            }
            if c == UInt8(ascii: "[") || c == UInt8(ascii: "{") {
                flow += 1
            } else if c == UInt8(ascii: "]") || c == UInt8(ascii: "}") {
                flow = max(0, flow - 1)
            }
            if column + 2 + flow > maxNesting {
                throw SpecError(source: source, line: line, key: "",
                                problem: "nested deeper than \(maxNesting) levels (too many open brackets, too much indentation or too many leading '- ')")
            }
        }
    }

    /// At most this many nodes per document: aliases (`*a`) let a few lines expand to billions of
    /// nodes ("billion laughs"), which would take minutes and gigabytes to walk; a real spec has
    /// a few hundred.
    static let maxNodes = 100_000

    private static func convert(_ node: Node, source: String, path: String, depth: Int, budget: inout Int) throws -> YAMLTree {
        budget -= 1
        guard budget >= 0 else {
            throw SpecError(source: source, line: node.mark?.line, key: path,
                            problem: "more than \(maxNodes) values in the document (aliases expanding without bound?)")
        }
        guard depth <= maxNesting else {   // aliases can nest a node inside another
            throw SpecError(source: source, line: node.mark?.line, key: path, problem: "nested deeper than \(maxNesting) levels")
        }
        switch node {
        case .scalar:
            return .scalar(node, line: node.mark?.line)
        case let .sequence(seq):
            return .sequence(try seq.enumerated().map { try convert($0.element, source: source, path: "\(path)[\($0.offset)]", depth: depth + 1, budget: &budget) },
                             line: node.mark?.line)
        case let .mapping(map):
            var entries: [(key: String, keyLine: Int?, value: YAMLTree)] = []
            var firstLines: [String: Int?] = [:]
            for (k, v) in map {
                guard case .scalar = k, let key = k.string else {
                    throw SpecError(source: source, line: k.mark?.line, key: path, problem: "mapping keys must be plain names")
                }
                let full = path.isEmpty ? key : "\(path).\(key)"
                if let firstLine = firstLines[key] {
                    let where_ = firstLine.map { " (first on line \($0))" } ?? ""
                    throw SpecError(source: source, line: k.mark?.line, key: full, problem: "key given twice\(where_)")
                }
                firstLines[key] = k.mark?.line
                entries.append((key, k.mark?.line, try convert(v, source: source, path: full, depth: depth + 1, budget: &budget)))
            }
            return .mapping(entries, line: node.mark?.line)
        }
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _): return mark.line
        default: return nil
        }
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case let .scanner(context, problem, _, _), let .parser(context, problem, _, _), let .composer(context, problem, _, _):
            let c = context.map { "\($0.text) " } ?? ""
            return (c + problem).trimmingCharacters(in: .whitespaces)
        default:
            return "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
        }
    }

    /// The same tree without line numbers: a command-line value has no line in the file, and a
    /// node without one is reported as coming from `--set` (YAMLMapping.error).
    var withoutLines: YAMLTree {
        switch self {
        case let .scalar(n, _): return .scalar(n, line: nil)
        case let .sequence(items, _): return .sequence(items.map(\.withoutLines), line: nil)
        case let .mapping(entries, _): return .mapping(entries.map { ($0.key, nil, $0.value.withoutLines) }, line: nil)
        }
    }

    /// The value of `key` in a mapping (nil for a missing key or another node).
    func child(_ key: String) -> YAMLTree? {
        guard case let .mapping(entries, _) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// Sets `value` at the dotted `path` (creating mappings on the way): command-line overrides.
    func setting(_ path: [String], to value: YAMLTree) -> YAMLTree {
        guard let head = path.first else { return value }
        var entries: [(key: String, keyLine: Int?, value: YAMLTree)] = []
        var line: Int? = nil
        if case let .mapping(e, l) = self { entries = e; line = l }
        let rest = Array(path.dropFirst())
        if let i = entries.firstIndex(where: { $0.key == head }) {
            entries[i].value = entries[i].value.setting(rest, to: value)
            entries[i].keyLine = nil
        } else {
            entries.append((head, nil, YAMLTree.mapping([], line: nil).setting(rest, to: value)))
        }
        return .mapping(entries, line: line)
    }
}

/// Walks one mapping of the tree: typed reads that name the key and line on error, and a final
/// check that every key was read (unknown keys are errors, with the list of known ones).
struct YAMLMapping {
    let source: String
    let path: String
    let line: Int?
    private let entries: [(key: String, keyLine: Int?, value: YAMLTree)]
    private var known: [String] = []

    init(_ tree: YAMLTree, source: String, path: String) throws {
        self.source = source
        self.path = path
        line = tree.line
        guard case let .mapping(entries, _) = tree else {
            throw SpecError(source: source, line: tree.line, key: path, problem: "expected a mapping of keys to values")
        }
        self.entries = entries
    }

    private func full(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func error(_ key: String, _ problem: String, line: Int? = nil) -> SpecError {
        if line == nil, let e = entry(key), e.keyLine == nil, e.value.line == nil {
            return SpecError(source: "--set", line: nil, key: full(key), problem: problem)   // an override's value
        }
        return SpecError(source: source, line: line ?? entry(key)?.keyLine ?? entry(key)?.value.line ?? self.line, key: full(key), problem: problem)
    }

    private func entry(_ key: String) -> (key: String, keyLine: Int?, value: YAMLTree)? {
        entries.first { $0.key == key }
    }

    /// The raw node (nil when absent or null).
    mutating func node(_ key: String) -> YAMLTree? {
        known.append(key)
        guard let e = entry(key) else { return nil }
        if case let .scalar(n, _) = e.value, YAMLMapping.isNull(n) { return nil }
        return e.value
    }

    static func isNull(_ n: Node) -> Bool {
        guard case let .scalar(s) = n, s.style == .plain || s.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    mutating func string(_ key: String) throws -> String? {
        guard let v = node(key) else { return nil }
        guard case let .scalar(n, _) = v, let s = n.string else { throw error(key, "expected text") }
        return s
    }

    mutating func int(_ key: String, min: Int? = nil) throws -> Int? {
        guard let v = node(key) else { return nil }
        guard case let .scalar(n, _) = v, let i = n.int else { throw error(key, "expected a whole number, got \(YAMLMapping.show(v))") }
        if let min, i < min { throw error(key, "must be at least \(min), got \(i)") }
        return i
    }

    mutating func double(_ key: String, positive: Bool = false, nonNegative: Bool = false) throws -> Double? {
        guard let v = node(key) else { return nil }
        guard case let .scalar(n, _) = v, let d = n.float, d.isFinite else { throw error(key, "expected a number, got \(YAMLMapping.show(v))") }
        if positive && !(d > 0) { throw error(key, "must be > 0, got \(d)") }
        if nonNegative && d < 0 { throw error(key, "must be >= 0, got \(d)") }
        return d
    }

    mutating func bool(_ key: String) throws -> Bool? {
        guard let v = node(key) else { return nil }
        guard case let .scalar(n, _) = v, let b = n.bool else { throw error(key, "expected true or false, got \(YAMLMapping.show(v))") }
        return b
    }

    mutating func choice(_ key: String, _ options: [String]) throws -> String? {
        guard let s = try string(key) else { return nil }
        guard options.contains(s) else { throw error(key, "expected one of \(options.joined(separator: ", ")), got '\(s)'") }
        return s
    }

    mutating func strings(_ key: String) throws -> [String]? {
        guard let v = node(key) else { return nil }
        if case let .scalar(n, _) = v, let s = n.string { return [s] }
        guard case let .sequence(items, _) = v else { throw error(key, "expected a list of texts") }
        return try items.enumerated().map { i, item in
            guard case let .scalar(n, _) = item, !YAMLMapping.isNull(n), let s = n.string else {
                throw SpecError(source: item.line == nil ? "--set" : source, line: item.line, key: "\(full(key))[\(i)]", problem: "expected text")
            }
            return s
        }
    }

    mutating func mapping(_ key: String) throws -> YAMLMapping? {
        guard let v = node(key) else { return nil }
        return try YAMLMapping(v, source: source, path: full(key))
    }

    /// Throws for the first key that no reader asked for.
    func finish() throws {
        for e in entries where !known.contains(e.key) {
            let line = e.keyLine ?? e.value.line
            throw SpecError(source: line == nil ? "--set" : source, line: line, key: full(e.key),
                            problem: "unknown key (expected one of: \(known.joined(separator: ", ")))")
        }
    }

    private static func show(_ v: YAMLTree) -> String {
        switch v {
        case let .scalar(n, _): return "'\(n.string ?? "?")'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }
}
