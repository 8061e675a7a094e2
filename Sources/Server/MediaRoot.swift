// Paths a client names are relative to `--media-root` and must stay inside it: no absolute path,
// no `..`, and after resolving symlinks still under the root (a symlink pointing out is refused).
import Foundation

public struct MediaRoot: Sendable {
    /// The root, symlinks resolved, without a trailing slash.
    public let path: String

    public init(_ path: String) throws {
        var isDir: ObjCBool = false
        let resolved = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDir), isDir.boolValue else {
            throw APIError.badRequest("--media-root \(path): not a directory")
        }
        self.path = resolved
    }

    /// The file `relative` names, inside the root, existing. 400 for a path that leaves the root,
    /// 404 for a missing one.
    public func resolve(_ relative: String) throws -> String {
        let what = "path '\(relative)'"
        guard !relative.isEmpty else { throw APIError.badRequest("\(what): empty") }
        guard !relative.hasPrefix("/") else { throw APIError.badRequest("\(what): must be relative to the media root, not absolute") }
        guard !relative.contains("\0") else { throw APIError.badRequest("\(what): holds a NUL byte") }
        let parts = relative.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.contains("..") else { throw APIError.badRequest("\(what): '..' is not allowed") }
        let joined = path + "/" + parts.joined(separator: "/")
        guard FileManager.default.fileExists(atPath: joined) else { throw APIError.notFound("\(what): no such file in the media root") }
        let real = URL(fileURLWithPath: joined).resolvingSymlinksInPath().path
        guard real == path || real.hasPrefix(path + "/") else {
            throw APIError.badRequest("\(what): a symlink that leads out of the media root")
        }
        return real
    }

    /// Video files under the root (relative paths, sorted), at most `limit`, for the web page.
    public func listVideos(limit: Int = 500) -> [String] {
        let exts: Set<String> = ["mp4", "mov", "mkv", "webm", "avi", "m4v"]
        guard let e = FileManager.default.enumerator(at: URL(fileURLWithPath: path), includingPropertiesForKeys: nil,
                                                      options: [.skipsHiddenFiles]) else { return [] }
        var out: [String] = []
        for case let url as URL in e where exts.contains(url.pathExtension.lowercased()) {
            let real = url.resolvingSymlinksInPath().path
            guard url.path.hasPrefix(path + "/"), real.hasPrefix(path + "/") else { continue }
            out.append(String(url.path.dropFirst(path.count + 1)))
            if out.count >= limit { break }
        }
        return out.sorted()
    }
}
