// An append-only JSONL results file that is also the resume ledger of `gar batch` and
// `gar bench videorefer`. Every record is one JSON object on one line with at least "id" and
// "status" ("ok" or "error").
//
// Crash safety: a record is written with a single write(2) on a file opened O_APPEND, then
// fsync(2)ed before the next item starts, so a crash can lose at most the record being written,
// and then leaves a partial last line without its "\n". Opening with `resume` cuts such a tail
// off; finished ids (status ok) are skipped, failed ones are run again and get a new line (the
// last line of an id is its current state; `merge` keeps exactly that).
//
// One writer per file: the ledger holds an exclusive flock(2) on the results file itself for its
// whole life (the kernel drops it when the process ends, however it ends), taken before the file
// is read. A second run on the same file — or a `--resume` beside a live run, or a `merge --out`
// onto it — is refused at once, naming the holder's pid (read from /proc/locks on Linux).
import Foundation

public final class JSONLLedger {
    public let path: String
    /// Ids whose last record has status "ok".
    public private(set) var finished: Set<String> = []
    /// Ids whose last record has status "error".
    public private(set) var failed: Set<String> = []
    private let fd: Int32

    /// Opens (or creates) the file and locks it (see the header). Without `resume` an existing
    /// non-empty file is an error, so a finished run is never appended to by accident. `check`
    /// sees every complete record of a resumed file before anything is changed; what it throws
    /// refuses the resume.
    public init(path: String, resume: Bool, check: ((Record) throws -> Void)? = nil) throws {
        self.path = path
        let fm = FileManager.default
        let dir = InputFile.folder(of: path)
        if !dir.isEmpty { try AtomicOutput.createDirectory(URL(fileURLWithPath: dir), for: URL(fileURLWithPath: path)) }
        var isDir: ObjCBool = false
        let existed = fm.fileExists(atPath: path, isDirectory: &isDir)
        if existed && isDir.boolValue { throw PipelineError.io(path: path, reason: "is a directory, not a results file") }
        fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PipelineError.io(path: path, reason: String(cString: strerror(errno))) }
        var locked = false
        do {
            try JSONLLedger.lock(fd, path: path)
            locked = true
            var st = stat()
            guard fstat(fd, &st) == 0, st.st_mode & 0o170000 == 0o100000 /* S_ISREG */ else {
                throw PipelineError.io(path: path, reason: "is not a regular file, not a results file")
            }
            if st.st_size > 0 && !resume {
                throw PipelineError.invalidInput(what: path, reason: "already exists: pass --resume to continue it, or remove it")
            }
            if st.st_size > 0 {
                let (records, cut) = try JSONLLedger.parse(try JSONLLedger.readAll(fd, path: path), path: path)
                if let check { try records.forEach(check) }
                if let cut {
                    guard ftruncate(fd, off_t(cut)) == 0 else {
                        throw PipelineError.io(path: path, reason: "cannot cut the partial last line: \(String(cString: strerror(errno)))")
                    }
                    printErr("warning: \(path): dropped a partial last line (a record cut by an interrupted run)")
                }
                for r in records {
                    if r.status == "ok" { finished.insert(r.id); failed.remove(r.id) } else { failed.insert(r.id); finished.remove(r.id) }
                }
            }
        } catch {
            if locked && !existed { unlink(path) }   // only the empty file this call created (and holds)
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    // MARK: one writer

    /// Takes the exclusive lock on `fd` (the results file at `path`) without waiting; a file
    /// another process holds is an error naming it and its pid.
    static func lock(_ fd: Int32, path: String) throws {
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            if [ENOLCK, EOPNOTSUPP, ENOSYS, EINVAL].contains(errno) {
                // A file system without locks (Lustre mounted without -o flock, some FUSE ones):
                // run, but say that a second run would not be noticed.
                printErr("warning: \(path): the file system cannot lock it (\(String(cString: strerror(errno)))); a second run on the same file would not be detected")
                break
            }
            guard errno == EWOULDBLOCK else {
                throw PipelineError.io(path: path, reason: "cannot lock the results file: \(String(cString: strerror(errno)))")
            }
            let who = lockHolder(fd).map { "pid \($0)" } ?? "another process"
            throw PipelineError.io(path: path, reason: "in use by another gar run (\(who)); wait for it to finish, or write to another file")
        }
        // The path must still name the file locked (not one renamed over it meanwhile).
        var a = stat(), b = stat()
        guard fstat(fd, &a) == 0, stat(path, &b) == 0, a.st_dev == b.st_dev, a.st_ino == b.st_ino else {
            throw PipelineError.io(path: path, reason: "was replaced while being opened; run again")
        }
    }

    /// The pid holding a flock on the file of `fd`, from /proc/locks (Linux; nil elsewhere or
    /// when not found). Its lines read "1: FLOCK  ADVISORY  WRITE 4242 fe:00:16222454 0 EOF".
    static func lockHolder(_ fd: Int32) -> Int? {
        var st = stat()
        guard fstat(fd, &st) == 0, let text = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return nil }
        let dev = UInt64(st.st_dev)
        // Linux's dev_t layout (glibc's gnu_dev_major / gnu_dev_minor).
        let major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~UInt64(0xFFF))
        let minor = (dev & 0xFF) | ((dev >> 12) & ~UInt64(0xFF))
        let file = String(format: "%02llx:%02llx:%llu", major, minor, UInt64(st.st_ino))
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 6, f[1] == "FLOCK", f[5] == file, let pid = Int(f[4]), pid > 0 else { continue }
            return pid
        }
        return nil
    }

    /// Nil when no process holds the file at `path` (or it does not exist), else the holder's
    /// description ("pid 4242"). Used by `merge` for its inputs.
    static func liveWriter(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)   // a FIFO must not block the open
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard flock(fd, LOCK_SH | LOCK_NB) != 0, errno == EWOULDBLOCK else { return nil }
        return lockHolder(fd).map { "pid \($0)" } ?? "another process"
    }

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
    /// ignored, with a warning (a resumed ledger cuts it off). A complete line that is not a
    /// record is an error naming the line.
    public static func readRecords(path: String) throws -> [Record] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError.io(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        let (records, cut) = try parse(data, path: path)
        if let cut {
            // Said, not silent: a file that is all one unterminated line (not a results file at
            // all) would otherwise merge as zero records.
            printErr("warning: \(path): ignored a partial last line (\(data.count - cut) bytes without a newline)")
        }
        return records
    }

    /// The whole file of `fd` (read from offset 0).
    static func readAll(_ fd: Int32, path: String) throws -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = pread(fd, &buffer, buffer.count, off_t(data.count))
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw PipelineError.io(path: path, reason: String(cString: strerror(errno))) }
            if n == 0 { return data }
            data.append(contentsOf: buffer[0 ..< n])
        }
    }

    /// The complete records of a file's bytes, and where its partial last line starts (nil when
    /// the data ends with a newline).
    static func parse(_ data: Data, path: String) throws -> (records: [Record], partialTail: Int?) {
        var complete = data
        var partialTail: Int? = nil
        if let last = data.last, last != 0x0A {
            let cut = (data.lastIndex(of: 0x0A).map { $0 + 1 }) ?? data.startIndex
            complete = data[data.startIndex ..< cut]
            partialTail = cut - data.startIndex
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
        return (records, partialTail)
    }

    /// Merges results files (e.g. one per shard): per id the last "ok" record, else the last
    /// record; sorted by id; written atomically to `out`. Returns (ok, error) counts.
    @discardableResult
    public static func merge(_ inputs: [String], into out: String) throws -> (ok: Int, failed: Int) {
        // Never replace a file a live run is appending to (it would go on writing to the old,
        // unlinked file); hold its lock while writing so no run starts on it meanwhile.
        let outFD = open(out, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        defer { if outFD >= 0 { close(outFD) } }
        if outFD >= 0 { try lock(outFD, path: out) }
        var best: [String: Record] = [:]
        for path in inputs {
            if let who = liveWriter(path) {
                printErr("warning: \(path): a gar run (\(who)) is still writing it; the items it has not finished are missing from the merge")
            }
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
