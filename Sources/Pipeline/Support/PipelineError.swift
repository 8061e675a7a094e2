import Foundation

/// Errors raised by jobs. Lower layers throw their own typed errors; the CLI prints any error's
/// `description` as one line naming the input and the problem, and exits non-zero.
public enum PipelineError: Error, CustomStringConvertible, Equatable {
    case io(path: String, reason: String)
    case invalidInput(what: String, reason: String)

    public var description: String {
        switch self {
        case let .io(path, reason): return PipelineError.oneLine("\(path): \(reason)")
        case let .invalidInput(what, reason): return PipelineError.oneLine("\(what): \(reason)")
        }
    }

    /// An error is one line even when it quotes input holding line breaks (a region string from
    /// a JSON list, a --set value): they are shown escaped.
    static func oneLine(_ s: String) -> String {
        guard s.contains(where: \.isNewline) else { return s }
        return s.replacingOccurrences(of: "\r\n", with: "\\r\\n").replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\r", with: "\\r").split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

extension PipelineError {
    /// A file-system error (Foundation's or a POSIX one) as one line naming `path`, e.g.
    /// "out/answer.json: Permission denied" — not Foundation's multi-field NSError text.
    static func io(path: String, _ error: Error) -> PipelineError {
        if let e = error as? PipelineError { return e }
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return .io(path: path, reason: String(cString: strerror(Int32(ns.code)))) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? Error {
            let posix = underlying as NSError
            if posix.domain == NSPOSIXErrorDomain { return .io(path: path, reason: String(cString: strerror(Int32(posix.code)))) }
        }
        return .io(path: path, reason: ns.localizedDescription)
    }
}
