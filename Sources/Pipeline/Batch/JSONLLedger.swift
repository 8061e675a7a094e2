// An append-only JSONL results file that is also the resume ledger of `gar batch` and
// `gar bench videorefer`. Every record is one JSON object on one line with at least "id" and
// "status" ("ok" or "error").
//
// Crash safety: a record is written with a single write(2) on a file opened O_APPEND, then
// fsync(2)ed before the next item starts, so a crash can lose at most the record being written,
// and then leaves a partial last line without its "\n". Opening with `resume` cuts such a tail
// off; finished ids (status ok) are skipped, failed ones are run again and get a new line (the
// last line of an id is its current state; `merge` keeps exactly that).
import Foundation

public final class JSONLLedger {
    public let path: String
    /// Ids whose last record has status "ok".
    public private(set) var finished: Set<String> = []
    /// Ids whose last record has status "error".
    public private(set) var failed: Set<String> = []
    private let fd: Int32

    /// Opens (or creates) the file. Without `resume` an existing non-empty file is an error, so
    /// a finished run is never appended to by accident.
    public init(path: String, resume: Bool) throws {
        self.path = path
        let fm = FileManager.default
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try AtomicOutput.createDirectory(URL(fileURLWithPath: dir), for: URL(fileURLWithPath: path)) }
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { throw PipelineError.io(path: path, reason: "is a directory, not a results file") }
            let size = ((try? fm.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
            if size > 0 && !resume {
                throw PipelineError.invalidInput(what: path, reason: "already exists: pass --resume to continue it, or remove it")
            }
            if size > 0 {
                let records = try JSONLLedger.readRecords(path: path, truncatePartialTail: true)
                for r in records {
                    if r.status == "ok" { finished.insert(r.id); failed.remove(r.id) } else { failed.insert(r.id); finished.remove(r.id) }
                }
            }
        }
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw PipelineError.io(path: path, reason: String(cString: strerror(errno))) }
    }

    deinit { close(fd) }

    /// Appends one record (a JSON object without newline) and makes it durable.
    public func append(id: String, status: String, json: Data) throws {
        var line = json
        line.append(0x0A)
        try line.withUnsafeBytes { (buf: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buf.count {
                let n = write(fd, buf.baseAddress! + offset, buf.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw PipelineError.io(path: path, reason: String(cString: strerror(errno)))
                }
                offset += n
            }
        }
        guard fsync(fd) == 0 else { throw PipelineError.io(path: path, reason: "fsync: \(String(cString: strerror(errno)))") }
        if status == "ok" { finished.insert(id); failed.remove(id) } else { failed.insert(id); finished.remove(id) }
    }

    /// One parsed line.
    public struct Record {
        public var id: String
        public var status: String
        /// The whole line (without newline).
        public var line: Data
        public var object: [String: Any]
    }

    /// Reads every complete record. A last line without "\n" is a record cut by a crash: it is
    /// ignored (and cut off the file when `truncatePartialTail`). A complete line that is not a
    /// record is an error naming the line.
    public static func readRecords(path: String, truncatePartialTail: Bool = false) throws -> [Record] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError.io(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        var complete = data
        if let last = data.last, last != 0x0A {
            let cut = (data.lastIndex(of: 0x0A).map { $0 + 1 }) ?? data.startIndex
            complete = data[data.startIndex ..< cut]
            if truncatePartialTail {
                guard truncate(path, off_t(cut - data.startIndex)) == 0 else {
                    throw PipelineError.io(path: path, reason: "cannot cut the partial last line: \(String(cString: strerror(errno)))")
                }
                printErr("warning: \(path): dropped a partial last line (a record cut by an interrupted run)")
            } else {
                // Said, not silent: a file that is all one unterminated line (not a results file at
                // all) would otherwise merge as zero records.
                printErr("warning: \(path): ignored a partial last line (\(data.count - (cut - data.startIndex)) bytes without a newline)")
            }
        }
        var records: [Record] = []
        var lineNumber = 0
        for line in complete.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.isEmpty { continue }
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any],
                  let id = obj["id"] as? String, let status = obj["status"] as? String else {
                throw PipelineError.invalidInput(what: "\(path) line \(lineNumber)", reason: "not a results record (a JSON object with \"id\" and \"status\")")
            }
            records.append(Record(id: id, status: status, line: Data(line), object: obj))
        }
        return records
    }

    /// Merges results files (e.g. one per shard): per id the last "ok" record, else the last
    /// record; sorted by id; written atomically to `out`. Returns (ok, error) counts.
    @discardableResult
    public static func merge(_ inputs: [String], into out: String) throws -> (ok: Int, failed: Int) {
        var best: [String: Record] = [:]
        for path in inputs {
            for r in try readRecords(path: path) {
                if let old = best[r.id], old.status == "ok", r.status != "ok" { continue }
                best[r.id] = r
            }
        }
        var text = Data()
        var ok = 0, failed = 0
        for id in best.keys.sorted() {
            let r = best[id]!
            text.append(r.line)
            text.append(0x0A)
            if r.status == "ok" { ok += 1 } else { failed += 1 }
        }
        try AtomicOutput.write(text, to: URL(fileURLWithPath: out))
        return (ok, failed)
    }
}
