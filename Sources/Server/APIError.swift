// The API's errors: every failure is `{"error": "one line"}` with a status that says whose fault it
// is. Lower layers' typed errors (the same ones the CLI prints) are mapped here, in one place:
//
//   400  bad request: bad JSON, a value out of range, a bad prompt, a video FFmpeg cannot read,
//        anything the CLI refuses as bad input (PipelineError, TrackingError, VideoError, SpecError,
//        ModelError other than the model's own files)
//   401  missing or wrong bearer token          404  unknown route, video, job, file or frame
//   413  body or upload over its size limit     429  the work queue is full (Retry-After)
//   500  only a server fault (the model's files, an encoder failure, an unexpected error)
import Foundation
import Hummingbird
import Models
import Pipeline
import Tracking
import Video

/// An error with its HTTP status; `message` is one line.
public struct APIError: Error, CustomStringConvertible, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    /// Seconds for a Retry-After header (429).
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ message: String, retryAfter: Int? = nil) {
        self.status = status
        self.message = APIError.oneLine(message)
        self.retryAfter = retryAfter
    }

    public var description: String { message }

    static func badRequest(_ m: String) -> APIError { APIError(.badRequest, m) }
    static func notFound(_ m: String) -> APIError { APIError(.notFound, m) }

    /// Any error as an APIError (see the table at the top of the file). `hiding` is a path prefix
    /// (the media root, the upload folder) removed from messages so clients see their own paths.
    static func from(_ error: Error, hiding prefixes: [String] = []) -> APIError {
        var e = classify(error)
        for p in prefixes where !p.isEmpty { e.message = e.message.replacingOccurrences(of: p.hasSuffix("/") ? p : p + "/", with: "") }
        return e
    }

    private static func classify(_ error: Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as VideoError:
            switch e {
            case .fileNotFound: return .notFound(e.description)
            case .writeFailed: return APIError(.internalServerError, e.description)
            default: return .badRequest(e.description)
            }
        case let e as PipelineError: return .badRequest(e.description)
        case let e as TrackingError: return .badRequest(e.description)
        case let e as SpecError: return .badRequest(e.description)
        case let e as ModelError:
            if case .modelFiles = e { return APIError(.internalServerError, e.description) }
            return .badRequest(e.description)
        case let e as DecodingError: return .badRequest("bad JSON: \(describe(e))")
        case let e as HTTPError:
            let text = e.body ?? (e.status == .notFound ? "no such route" : e.status.reasonPhrase)
            if e.status == .contentTooLarge { return APIError(.contentTooLarge, "the request body is over the size limit") }
            return APIError(e.status, text)
        default: return APIError(.internalServerError, "\(error)")
        }
    }

    /// A DecodingError as "key.path: what was wrong".
    static func describe(_ e: DecodingError) -> String {
        func path(_ p: [CodingKey]) -> String {
            let s = p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
            return s.isEmpty ? "the body" : s
        }
        switch e {
        case let .keyNotFound(key, c): return "\(path(c.codingPath + [key])): missing"
        case let .typeMismatch(type, c): return "\(path(c.codingPath)): expected \(typeName(type))"
        case let .valueNotFound(type, c): return "\(path(c.codingPath)): expected \(typeName(type)), got null"
        case let .dataCorrupted(c):
            if let u = c.underlyingError as NSError?, c.codingPath.isEmpty { return "not valid JSON (\(u.localizedDescription))" }
            return "\(path(c.codingPath)): \(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }

    static func typeName(_ t: Any.Type) -> String {
        switch t {
        case is String.Type: return "a string"
        case is Int.Type, is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "true or false"
        default: return String(describing: t).hasPrefix("Array") ? "a list" : "an object"
        }
    }

    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// The JSON body `{"error": message}`.
    var body: String { (try? JSONOutput.string(object: ["error": message])) ?? #"{"error":"error"}"# }
}
