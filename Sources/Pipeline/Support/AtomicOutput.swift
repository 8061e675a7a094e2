// Atomic outputs: everything gar writes goes to a temporary sibling first and is renamed into
// place only when complete, so a crash or a bad input never leaves a half-written file or
// directory behind (ARCHITECTURE.md §6).
import Foundation

public enum AtomicOutput {
    /// Writes `data` to `url` through a temporary file in the same directory, then renames it.
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        do {
            try data.write(to: tmp)
            if rename(tmp.path, url.path) != 0 {
                throw PipelineError.io(path: url.path, reason: String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Builds a directory atomically: `body` fills a temporary sibling directory, which then
    /// replaces `url` (an existing directory at `url` is removed only after `body` succeeded).
    /// On error the temporary directory is deleted and `url` is left untouched.
    public static func directory<T>(at url: URL, _ body: (URL) throws -> T) throws -> T {
        let fm = FileManager.default
        let parent = url.deletingLastPathComponent()
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        let tmp = parent.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try fm.createDirectory(at: tmp, withIntermediateDirectories: false)
        do {
            let result = try body(tmp)
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: url.path, isDirectory: &isDir) {
                guard isDir.boolValue else {
                    throw PipelineError.io(path: url.path, reason: "exists and is not a directory")
                }
                try fm.removeItem(at: url)
            }
            if rename(tmp.path, url.path) != 0 {
                throw PipelineError.io(path: url.path, reason: String(cString: strerror(errno)))
            }
            return result
        } catch {
            try? fm.removeItem(at: tmp)
            throw error
        }
    }
}
