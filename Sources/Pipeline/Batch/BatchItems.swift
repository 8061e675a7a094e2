// What `gar batch` processes: a folder of videos, or a list.
//
// Folder: every video file (by extension, see `videoExtensions`) and every sub-folder holding
// .png/.jpg frames is an item; its id is its name. Per item, side files next to it with the same
// stem give its regions and questions:
//
//     clip.mp4
//     clip.regions            one --region string per line (as `gar ask --region`), # comments
//     clip.annotation.json    or: VideoRefer-style masks (instead of .regions)
//     clip.questions          optional: one question per line (else the pipeline's questions)
//
// List: a `.jsonl` file, one item per line
//     {"id": "a", "video": "clips/a.mp4", "regions": ["mask=m/a.png"], "questions": ["..."]}
// ("id" defaults to "video"; "annotation" instead of "regions"), or any other text file with one
// video path per line (side files as for a folder). Relative paths — in a list, a side file or
// a region string — are relative to the file they are written in.
import Foundation

public struct BatchItem: Sendable, Equatable {
    public var id: String
    /// Video file or frames folder.
    public var input: String
    /// `--region` strings with paths resolved (empty with an annotation or when none was found).
    public var regions: [String]
    public var annotation: String?
    /// nil = the pipeline's questions.
    public var questions: [String]?
    /// Where each region string and the questions were written ("items.jsonl line 3 regions[0]",
    /// "videos/a.regions line 2"): an item's errors name these, not command-line flags.
    public var regionSources: [String] = []
    public var questionsSource = "questions"
    /// A side file that could not be read (a FIFO, too big, not UTF-8) or a bad field of its
    /// list line: this item's error line — a bad item never stops the batch.
    public var problem: PipelineError?
}

public enum BatchItems {
    public static let videoExtensions: Set<String> = ["mp4", "m4v", "mov", "mkv", "webm", "avi", "ts", "mts", "m2ts", "3gp", "mpg", "mpeg", "flv", "wmv", "ogv"]

    /// Items of a folder or list, sorted by id (ids must be unique).
    public static func discover(_ path: String) throws -> [BatchItem] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw PipelineError.io(path: path, reason: "no such folder or list file")
        }
        let items = isDir.boolValue ? try folder(path) : try list(path)
        var seen: Set<String> = []
        for i in items where !seen.insert(i.id).inserted {
            throw PipelineError.invalidInput(what: path, reason: "item id '\(i.id)' appears twice")
        }
        return items.sorted { $0.id < $1.id }
    }

    static func folder(_ dir: String) throws -> [BatchItem] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: dir) else {
            throw PipelineError.io(path: dir, reason: "cannot list the folder")
        }
        var items: [BatchItem] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let full = (dir as NSString).appendingPathComponent(name)
            var sub: ObjCBool = false
            _ = fm.fileExists(atPath: full, isDirectory: &sub)
            if sub.boolValue {
                guard isFrameFolder(full) else { continue }
                items.append(withSideFiles(id: name, input: full, stemPath: full))
            } else if videoExtensions.contains((name as NSString).pathExtension.lowercased()) {
                items.append(withSideFiles(id: name, input: full, stemPath: (full as NSString).deletingPathExtension))
            }
        }
        if items.isEmpty {
            throw PipelineError.invalidInput(what: dir, reason: "no video files or frame folders in it (extensions: \(videoExtensions.sorted().joined(separator: ", ")))")
        }
        return items
    }

    static func isFrameFolder(_ dir: String) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.contains { ["png", "jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) && !$0.hasPrefix(".") }
    }

    /// Bounds of the text files read here (a list, a side file): their size and line length.
    public static let maxFileBytes = 256 << 20
    public static let maxLineBytes = 1 << 20

    /// "\n" or "\r\n" (one Character in Swift: splitting on "\n" alone would keep a CRLF file one line).
    static func isLineBreak(_ c: Character) -> Bool { c == "\n" || c == "\r\n" }

    /// A list or side file as text, within the bounds above.
    static func readText(_ path: String, what: String) throws -> String {
        try InputFile.check(path, maxBytes: maxFileBytes, what: what)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PipelineError.io(path: path, reason: "cannot read \(what)")
        }
        for (n, line) in text.split(omittingEmptySubsequences: false, whereSeparator: isLineBreak).enumerated() where line.utf8.count > maxLineBytes {
            throw PipelineError.invalidInput(what: "\(path) line \(n + 1)", reason: "\(line.utf8.count) bytes is too long (at most \(maxLineBytes) per line)")
        }
        return text
    }

    static func list(_ file: String) throws -> [BatchItem] {
        let text = try readText(file, what: "the list")
        let base = InputFile.folder(of: file)
        var items: [BatchItem] = []
        let jsonl = file.lowercased().hasSuffix(".jsonl")
        for (n, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: isLineBreak).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let what = "\(file) line \(n + 1)"
            if !jsonl {
                let input = resolve(line, base: base)
                items.append(withSideFiles(id: line, input: input, stemPath: (input as NSString).deletingPathExtension))
                continue
            }
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                throw PipelineError.invalidInput(what: what, reason: "not a JSON object")
            }
            guard let video = obj["video"] as? String else { throw PipelineError.invalidInput(what: what, reason: "needs \"video\": PATH") }
            var item = BatchItem(id: (obj["id"] as? String) ?? video, input: resolve(video, base: base), regions: [], annotation: nil, questions: nil)
            do {   // a bad field is this item's error line, not the end of the batch
                let known: Set<String> = ["id", "video", "regions", "annotation", "questions"]
                if let bad = obj.keys.sorted().first(where: { !known.contains($0) }) {
                    throw PipelineError.invalidInput(what: what, reason: "unknown key '\(bad)' (expected: id, video, regions, annotation, questions)")
                }
                if let r = obj["regions"] {
                    guard let list = r as? [String] else { throw PipelineError.invalidInput(what: what, reason: "\"regions\" must be a list of region strings") }
                    item.regions = list.map { resolveRegion($0, base: base) }
                    item.regionSources = list.indices.map { "\(what) regions[\($0)]" }
                }
                if let q = obj["questions"] {
                    guard let list = q as? [String] else { throw PipelineError.invalidInput(what: what, reason: "\"questions\" must be a list of texts") }
                    item.questions = list
                    item.questionsSource = "\(what) questions"
                }
                if let a = obj["annotation"] {
                    guard let s = a as? String else { throw PipelineError.invalidInput(what: what, reason: "\"annotation\" must be a path") }
                    item.annotation = resolve(s, base: base)
                }
            } catch {
                item.problem = error as? PipelineError
            }
            items.append(item)
        }
        if items.isEmpty { throw PipelineError.invalidInput(what: file, reason: "the list has no item") }
        return items
    }

    /// An item with its side files (`stem.regions`, `stem.annotation.json`, `stem.questions`).
    static func withSideFiles(id: String, input: String, stemPath: String) -> BatchItem {
        let fm = FileManager.default
        let base = InputFile.folder(of: stemPath)
        var item = BatchItem(id: id, input: input, regions: [], annotation: nil, questions: nil)
        do {
            if fm.fileExists(atPath: stemPath + ".regions") {
                let regions = try lines(stemPath + ".regions")
                item.regions = regions.map { resolveRegion($0.text, base: base) }
                item.regionSources = regions.map { "\(stemPath).regions line \($0.line)" }
            }
            if fm.fileExists(atPath: stemPath + ".annotation.json") { item.annotation = stemPath + ".annotation.json" }
            if fm.fileExists(atPath: stemPath + ".questions") {
                item.questions = try lines(stemPath + ".questions").map(\.text)
                item.questionsSource = stemPath + ".questions"
            }
        } catch {
            item.problem = error as? PipelineError ?? .io(path: stemPath, error)
        }
        return item
    }

    /// The non-empty, non-comment lines of a side file, with their line numbers (from 1).
    static func lines(_ path: String) throws -> [(line: Int, text: String)] {
        let text = try readText(path, what: "a side file")
        return text.split(omittingEmptySubsequences: false, whereSeparator: isLineBreak).enumerated()
            .map { (line: $0.offset + 1, text: $0.element.trimmingCharacters(in: .whitespaces)) }
            .filter { !$0.text.isEmpty && !$0.text.hasPrefix("#") }
    }

    static func resolve(_ p: String, base: String) -> String {
        p.hasPrefix("/") || base.isEmpty ? p : (base as NSString).appendingPathComponent(p)
    }

    /// Resolves the paths inside a region string (mask=, scribble= and bare mask paths).
    static func resolveRegion(_ s: String, base: String) -> String {
        s.split(separator: " ", omittingEmptySubsequences: true).map { token -> String in
            let t = String(token)
            if t.hasPrefix("mask=") { return "mask=" + resolve(String(t.dropFirst(5)), base: base) }
            if t.hasPrefix("scribble=") { return "scribble=" + resolve(String(t.dropFirst(9)), base: base) }
            if !t.contains("=") { return resolve(t, base: base) }
            return t
        }.joined(separator: " ")
    }
}

/// `--shard i/N`: item p (0-based, in id order) belongs to shard p mod N.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, index >= 0, index < count else {
            throw PipelineError.invalidInput(what: "--shard \(index)/\(count)", reason: "expected i/N with 0 <= i < N")
        }
        self.index = index
        self.count = count
    }

    public var description: String { "\(index)/\(count)" }

    /// "i/N", or "auto": Slurm array (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of
    /// SLURM_ARRAY_TASK_COUNT) or a Kubernetes indexed Job (JOB_COMPLETION_INDEX of GAR_SHARDS,
    /// which the Job sets to its `completions`).
    public static func parse(_ s: String, environment env: [String: String] = ProcessInfo.processInfo.environment) throws -> Shard {
        if s == "auto" {
            if let id = env["SLURM_ARRAY_TASK_ID"].flatMap(Int.init) {
                guard let count = env["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init) else {
                    throw PipelineError.invalidInput(what: "--shard auto", reason: "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not")
                }
                let min = env["SLURM_ARRAY_TASK_MIN"].flatMap(Int.init) ?? 0
                let (index, overflow) = id.subtractingReportingOverflow(min)
                guard !overflow else {
                    throw PipelineError.invalidInput(what: "--shard auto", reason: "SLURM_ARRAY_TASK_ID \(id) - SLURM_ARRAY_TASK_MIN \(min) is out of range")
                }
                return try Shard(index: index, count: count)
            }
            if let id = env["JOB_COMPLETION_INDEX"].flatMap(Int.init) {
                guard let count = env["GAR_SHARDS"].flatMap(Int.init) else {
                    throw PipelineError.invalidInput(what: "--shard auto", reason: "JOB_COMPLETION_INDEX is set but GAR_SHARDS (the Job's completions) is not")
                }
                return try Shard(index: id, count: count)
            }
            throw PipelineError.invalidInput(what: "--shard auto", reason: "neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set")
        }
        let parts = s.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw PipelineError.invalidInput(what: "--shard \(s)", reason: "expected i/N (e.g. 0/4) or auto")
        }
        return try Shard(index: i, count: n)
    }

    /// The items of this shard (items already sorted by id).
    public func select<T>(_ items: [T]) -> [T] {
        items.enumerated().filter { $0.offset % count == index }.map(\.element)
    }
}
