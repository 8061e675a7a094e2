import Foundation

/// Errors raised by jobs. Lower layers throw their own typed errors; the CLI prints any error's
/// `description` as one line naming the input and the problem, and exits non-zero.
public enum PipelineError: Error, CustomStringConvertible, Equatable {
    case io(path: String, reason: String)
    case invalidInput(what: String, reason: String)

    public var description: String {
        switch self {
        case let .io(path, reason): return "\(path): \(reason)"
        case let .invalidInput(what, reason): return "\(what): \(reason)"
        }
    }
}
