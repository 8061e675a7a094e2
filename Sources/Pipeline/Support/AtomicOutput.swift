// Atomic outputs: everything gar writes goes to a temporary sibling first and is renamed into
// place only when complete, so a crash or a bad input never leaves a half-written file or
// directory behind (ARCHITECTURE.md §6). The temporaries are hidden (".NAME.tmp-PID-RANDOM") and
// are deleted on error, and also when SIGINT or SIGTERM stops the run (InterruptCleanup); only
// SIGKILL or a power cut can leave one behind, never a partial file under the real name.
import Foundation

public enum AtomicOutput {
    /// Writes `data` to `url` through a temporary file in the same directory, then renames it.
    public static func write(_ data: Data, to url: URL) throws {
        try checkFileDestination(url)
        let dir = url.deletingLastPathComponent()
        try createDirectory(dir, for: url)
        let tmp = temporarySibling(of: url)
        InterruptCleanup.register(tmp.path)
        defer { InterruptCleanup.unregister(tmp.path) }
        do {
            do { try data.write(to: tmp) } catch { throw PipelineError.io(path: url.path, error) }
            if rename(tmp.path, url.path) != 0 {
                throw PipelineError.io(path: url.path, reason: String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            InterruptCleanup.waitIfInterrupted()
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
        try refuseNonDirectory(at: url)   // before the work, not after it
        try refuseFileAmongFolders(of: url)
        try createDirectory(url.deletingLastPathComponent(), for: url)
        let tmp = temporarySibling(of: url)
        do { try fm.createDirectory(at: tmp, withIntermediateDirectories: false) } catch { throw PipelineError.io(path: url.path, error) }
        InterruptCleanup.register(tmp.path)
        defer { InterruptCleanup.unregister(tmp.path) }
        do {
            let result = try body(tmp)
            try refuseNonDirectory(at: url)
            if fm.fileExists(atPath: url.path) {
                do { try fm.removeItem(at: url) } catch { throw PipelineError.io(path: url.path, error) }
            }
            if rename(tmp.path, url.path) != 0 {
                throw PipelineError.io(path: url.path, reason: String(cString: strerror(errno)))
            }
            return result
        } catch {
            try? fm.removeItem(at: tmp)
            InterruptCleanup.waitIfInterrupted()
            throw error
        }
    }

    /// ".NAME.tmp-PID-RANDOM" next to `url`.
    static func temporarySibling(of url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))")
    }

    /// Refuses, before any work, a file output that cannot be written: an existing directory of
    /// that name, or a file where one of its folders should be.
    public static func checkFileDestination(_ url: URL) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue {
            throw PipelineError.io(path: url.path, reason: "is a directory, not a file")
        }
        try refuseFileAmongFolders(of: url)
    }

    /// Refuses, before any work, a directory output that cannot be written: an existing file of
    /// that name, or a file where one of its folders should be.
    public static func checkDirectoryDestination(_ url: URL) throws {
        try refuseNonDirectory(at: url)
        try refuseFileAmongFolders(of: url)
    }

    /// Creates the folder an output goes into; a failure names the output.
    static func createDirectory(_ dir: URL, for output: URL) throws {
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            try refuseFileAmongFolders(of: output)   // says which file is in the way, not "File exists"
            throw PipelineError.io(path: output.path, error)
        }
    }

    /// The nearest existing folder above `url` must be a folder, not a file.
    static func refuseFileAmongFolders(of url: URL) throws {
        var dir = url.deletingLastPathComponent()
        var isDir: ObjCBool = false
        while !FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir) && dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        if !isDir.boolValue {
            throw PipelineError.io(path: url.path, reason: "\(dir.path) is a file, not a folder")
        }
    }

    static func refuseNonDirectory(at url: URL) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue {
            throw PipelineError.io(path: url.path, reason: "exists and is not a directory")
        }
    }
}

/// Temporary outputs to delete when SIGINT or SIGTERM stops the process. The first
/// registration installs the handlers (on a dispatch queue, where deleting files is safe); after
/// deleting what is registered, a handler restores the default action and sends the signal again,
/// so the process still ends as killed by it (exit status 130 / 143 in a shell).
public enum InterruptCleanup {
    private final class State: @unchecked Sendable {
        let lock = NSLock()
        var paths: Set<String> = []
        var sources: [any DispatchSourceSignal] = []
        var interrupted = false
    }
    private static let state = State()
    private static let queue = DispatchQueue(label: "gar.interrupt-cleanup")

    public static func register(_ path: String) {
        state.lock.lock(); defer { state.lock.unlock() }
        state.paths.insert(path)
        if state.sources.isEmpty { install() }
    }

    public static func unregister(_ path: String) {
        state.lock.lock(); defer { state.lock.unlock() }
        state.paths.remove(path)
    }

    /// Called with the lock held.
    private static func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)   // the dispatch source receives it instead of the default action
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { cleanUpAndExit(sig) }
            source.resume()
            state.sources.append(source)
        }
    }

    /// Parks the calling thread for good once a signal is being handled: work that failed
    /// because its temporary output was just deleted must not report that as an error and exit
    /// before the handler ends the process with the signal.
    public static func waitIfInterrupted() {
        state.lock.lock()
        let interrupted = state.interrupted
        state.lock.unlock()
        while interrupted { sleep(60) }
    }

    private static func cleanUpAndExit(_ sig: Int32) {
        state.lock.lock()
        state.interrupted = true
        let paths = state.paths
        state.lock.unlock()
        for path in paths {
            // The interrupted work may still be adding files to a temporary directory: retry.
            for _ in 0 ..< 5 where FileManager.default.fileExists(atPath: path) {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        signal(sig, SIG_DFL)
        kill(getpid(), sig)   // not raise(): dispatch threads block signals
    }
}
