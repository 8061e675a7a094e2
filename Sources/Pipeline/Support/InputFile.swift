// A text or JSON input (spec, annotation, scribble, question list, text to tokenize) checked
// before it is read: a symlink loop, a FIFO or a device is named as such — reading a FIFO would
// block for ever, and a loop used to be reported as a missing file. Video and image inputs get
// the same check in the Video module (checkInputFile).
import Foundation

public enum InputFile {
    /// The folder part of a path ("" for a bare name, "/" for "/name"). Not
    /// NSString.deletingLastPathComponent: it traps on a one-character relative path ("a"; Linux
    /// Foundation), which a results file, list or spec may well be called.
    public static func folder(of path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "" }
        return slash == p.startIndex ? "/" : String(p[..<slash])
    }

    /// Throws for a path that exists but cannot be a regular file; a missing path or a folder is
    /// left to the caller's own message ("no such pipeline file", "is a directory", ...). A file
    /// larger than `maxBytes` is refused too (`what` names it: "a pipeline spec").
    public static func check(_ path: String, maxBytes: Int? = nil, what: String = "this input") throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ELOOP { throw PipelineError.io(path: path, reason: "too many levels of symbolic links (a symlink loop)") }
            return
        }
        switch st.st_mode & S_IFMT {
        case S_IFIFO: throw PipelineError.io(path: path, reason: "is a FIFO (named pipe), not a regular file")
        case S_IFCHR, S_IFBLK: throw PipelineError.io(path: path, reason: "is a device, not a regular file")
        case S_IFSOCK: throw PipelineError.io(path: path, reason: "is a socket, not a regular file")
        default:
            if let maxBytes, Int(st.st_size) > maxBytes {
                throw PipelineError.invalidInput(what: path, reason: "\(st.st_size) bytes is too large for \(what) (at most \(maxBytes))")
            }
        }
    }
}
