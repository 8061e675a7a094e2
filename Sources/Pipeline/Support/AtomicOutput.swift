// Outputs: a command writes only the paths it names, and never half a file.
//
// - A file is written to a hidden temporary sibling (".NAME.tmp-PID-RANDOM") and renamed over
//   its name only when complete. A symlink stays a symlink: the file it points to is replaced.
//   A replaced file keeps its permission bits.
// - An output folder is created when missing. When it exists, gar writes its own files into it
//   and touches nothing else: the files are made in a hidden staging folder inside it
//   (".gar-tmp-PID-RANDOM") and each is renamed into place once all are complete, replacing
//   only a file of the same name. On error the staging folder is deleted, and so is the output
//   folder when this run created it; nothing that was there before is ever deleted.
// - An output that is one of the command's inputs (the same file after symlinks, "..",
//   relative spellings, hard links), or a folder output where a file gar writes is an input,
//   is refused before any work (`refuseInputs`).
//
// The temporaries are deleted on error and when SIGINT or SIGTERM stops the run
// (InterruptCleanup); only SIGKILL or a power cut can leave one behind, never a partial file
// under the real name. ARCHITECTURE.md §6.
import Foundation

public enum AtomicOutput {
    /// Writes `data` to `url` through a temporary file in the same directory, then renames it.
    public static func write(_ data: Data, to url: URL) throws {
        try checkFileDestination(url)
        if isDevice(url) { return try writeDirectly(data, to: url) }
        let target = try resolvingSymlink(url)
        try createDirectory(target.deletingLastPathComponent(), for: url)
        let tmp = temporarySibling(of: target)
        InterruptCleanup.register(tmp.path)
        defer { InterruptCleanup.unregister(tmp.path) }
        do {
            do { try data.write(to: tmp) } catch { throw PipelineError.io(path: url.path, error) }
            try rename(tmp, over: target, named: url)
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            InterruptCleanup.waitIfInterrupted()
            throw error
        }
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// An existing output that is not a regular file or folder (/dev/null, /dev/stdout, a FIFO):
    /// a rename would replace the device node with a file, so it is written as it is.
    static func isDevice(_ url: URL) -> Bool {
        var st = stat()
        guard stat(url.path, &st) == 0 else { return false }
        let kind = st.st_mode & S_IFMT
        return kind != S_IFREG && kind != S_IFDIR
    }

    /// Writes `data` to an existing device or FIFO; every failed write (a full disk) is an error.
    static func writeDirectly(_ data: Data, to url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PipelineError.io(path: url.path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw PipelineError.io(path: url.path, reason: n < 0 ? String(cString: strerror(errno)) : "nothing written") }
                done += n
            }
        }
    }

    /// Writes a command's files into the folder `url`: `body` fills a staging folder (hidden,
    /// inside `url`); when it succeeded each of its files is renamed into place, replacing
    /// only a file of the same name. `url` is created when missing; on error what this run
    /// wrote is deleted (the staging folder, and `url` itself when this run created it).
    public static func directory<T>(at url: URL, _ body: (URL) throws -> T) throws -> T {
        let fm = FileManager.default
        try checkDirectoryDestination(url)   // before the work, not after it
        let created = highestMissingFolder(of: url)
        try createDirectory(url, for: url)
        let staging = url.appendingPathComponent(".gar-tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        let written = created ?? staging   // what an interrupt or an error deletes
        InterruptCleanup.register(written.path)
        defer { InterruptCleanup.unregister(written.path) }
        do {
            do { try fm.createDirectory(at: staging, withIntermediateDirectories: false) } catch { throw PipelineError.io(path: url.path, error) }
            let result = try body(staging)
            try moveContents(of: staging, into: url)
            try? fm.removeItem(at: staging)
            return result
        } catch {
            try? fm.removeItem(at: staging)
            if let created { try? fm.removeItem(at: created) }
            InterruptCleanup.waitIfInterrupted()
            throw error
        }
    }

    /// Renames every file under `staging` to the same relative path under `dest`.
    static func moveContents(of staging: URL, into dest: URL) throws {
        let fm = FileManager.default
        let names: [String]
        do { names = try fm.contentsOfDirectory(atPath: staging.path).sorted() } catch { throw PipelineError.io(path: dest.path, error) }
        for name in names {
            let from = staging.appendingPathComponent(name), to = dest.appendingPathComponent(name)
            var isDir: ObjCBool = false
            _ = fm.fileExists(atPath: from.path, isDirectory: &isDir)
            if isDir.boolValue {
                try checkDirectoryDestination(to)
                try createDirectory(to, for: to)
                try moveContents(of: from, into: to)
            } else if (try? fm.destinationOfSymbolicLink(atPath: to.path)) != nil {
                // Written through the link: its target may be on another file system.
                let data: Data
                do { data = try Data(contentsOf: from) } catch { throw PipelineError.io(path: to.path, error) }
                try write(data, to: to)
            } else {
                try checkFileDestination(to)
                try rename(from, over: to, named: to)
            }
        }
    }

    /// Renames the complete temporary `tmp` over `target`, keeping the permission bits of a
    /// file it replaces. Errors name `url` (the path the user gave).
    static func rename(_ tmp: URL, over target: URL, named url: URL) throws {
        if let mode = permissions(of: target) { chmod(tmp.path, mode) }
        if Foundation.rename(tmp.path, target.path) != 0 {
            throw PipelineError.io(path: url.path, reason: String(cString: strerror(errno)))
        }
    }

    /// The permission bits of the file at `url`, nil when there is none.
    public static func permissions(of url: URL) -> mode_t? {
        var st = stat()
        guard stat(url.path, &st) == 0 else { return nil }
        return st.st_mode & 0o7777
    }

    /// `url`, or the path a symlink at `url` finally points to (a relative link is read from
    /// the link's folder), so a write replaces the target and the link stays.
    public static func resolvingSymlink(_ url: URL) throws -> URL {
        var u = url
        for _ in 0 ..< 40 {
            guard let dest = try? FileManager.default.destinationOfSymbolicLink(atPath: u.path) else { return u }
            u = dest.hasPrefix("/") ? URL(fileURLWithPath: dest) : u.deletingLastPathComponent().appendingPathComponent(dest)
        }
        throw PipelineError.io(path: url.path, reason: "too many levels of symbolic links (a symlink loop)")
    }

    /// The highest folder of `url` (itself included) that does not exist yet: the one to
    /// delete to undo `createDirectory(url)`. Nil when `url` exists.
    static func highestMissingFolder(of url: URL) -> URL? {
        let fm = FileManager.default
        guard !fm.fileExists(atPath: url.path) else { return nil }
        var top = url
        while top.path != "/" && !fm.fileExists(atPath: top.deletingLastPathComponent().path) {
            top = top.deletingLastPathComponent()
        }
        return top
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

    // MARK: outputs that are inputs

    /// Refuses, before any work, the file output `output` (given as `option`) when it is one of
    /// `inputs`: the same path after symlinks, ".." and relative spellings, or the same file
    /// (a hard link) — or an existing file inside an input folder (a model directory's
    /// config.json, a frame of a frames folder): gar reads what is in its input folders.
    public static func refuseInputs(_ inputs: [String], asFile output: String, option: String) throws {
        let out = canonicalPath(output)
        var outStat = stat()
        let outExists = stat(output, &outStat) == 0
        for input in inputs {
            var inStat = stat()
            let found = stat(input, &inStat) == 0
            let sameFile = outExists && found && inStat.st_dev == outStat.st_dev && inStat.st_ino == outStat.st_ino
            if sameFile || canonicalPath(input) == out {
                throw PipelineError.invalidInput(what: "\(option) \(output)", reason: "is also an input (\(input)); gar never writes over its inputs, choose another path")
            }
            if outExists && found && inStat.st_mode & S_IFMT == S_IFDIR && out.hasPrefix(canonicalPath(input) + "/") {
                throw PipelineError.invalidInput(what: "\(option) \(output)", reason: "is a file in the input folder \(input); gar never writes over its inputs, choose another path")
            }
        }
    }

    /// Refuses, before any work, the folder output `output` (given as `option`) when it is an
    /// input folder, or when a file it would write there (`writes(relativePath)`) is an input.
    public static func refuseInputs(_ inputs: [String], asFolder output: String, option: String, writes: (String) -> Bool) throws {
        let out = canonicalPath(output)
        for input in inputs {
            let path = canonicalPath(input)
            let relative = path.hasPrefix(out + "/") ? String(path.dropFirst(out.count + 1)) : nil
            if path == out || relative.map(writes) == true {
                throw PipelineError.invalidInput(what: "\(option) \(output)", reason: path == out
                    ? "is also an input folder (\(input)); gar never writes into its inputs, choose another folder"
                    : "gar would write \(relative!) there, which is an input (\(input)); choose another folder")
            }
        }
    }

    public static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// The absolute path of `path` with symlinks, "." and ".." resolved — also for a path that
    /// does not exist yet (its existing folders are resolved, the rest appended).
    public static func canonicalPath(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var existing = URL(fileURLWithPath: absolute).standardized
        var rest: [String] = []
        while existing.path != "/" {
            if let real = realpath(existing.path, nil) {
                defer { free(real) }
                return rest.reduce(URL(fileURLWithPath: String(cString: real))) { $0.appendingPathComponent($1) }.path
            }
            rest.insert(existing.lastPathComponent, at: 0)
            existing = existing.deletingLastPathComponent()
        }
        return existing.path + rest.joined(separator: "/")
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
