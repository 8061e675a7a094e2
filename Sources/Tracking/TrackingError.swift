// Typed errors of the Tracking module. Each description is one line naming the input and
// the problem, so the CLI can print it as is.
public enum TrackingError: Error, CustomStringConvertible, Equatable {
    /// A COCO RLE object that cannot be decoded (bad size, bad counts, counts not summing to h*w).
    case badRLE(String)
    /// A mask or image whose size differs from the frame it belongs to.
    case sizeMismatch(what: String, got: (Int, Int), expected: (Int, Int))
    /// A prompt mask with no pixel set.
    case emptyMask(what: String)
    /// A prompt that does not fit the frame or is otherwise unusable (box outside, no points...).
    case badPrompt(what: String, reason: String)
    /// A scribble file that cannot be parsed.
    case badScribble(path: String, line: Int, reason: String)
    /// A prompt frame index outside the tracked frames.
    case frameOutOfRange(frame: Int, count: Int)
    /// Anything else about the caller's input (empty frame list, inconsistent frame sizes...).
    case invalidInput(String)

    public var description: String {
        switch self {
        case let .badRLE(reason): return "COCO RLE: \(reason)"
        case let .sizeMismatch(what, got, expected):
            return "\(what): size \(got.0)x\(got.1) does not match the frame size \(expected.0)x\(expected.1)"
        case let .emptyMask(what): return "\(what): the mask is empty (no nonzero pixel)"
        case let .badPrompt(what, reason): return "\(what): \(reason)"
        case let .badScribble(path, line, reason): return "\(path):\(line): \(reason)"
        case let .frameOutOfRange(frame, count):
            return "prompt frame \(frame) is past the end: \(count) frames are tracked (indices 0..<\(count))"
        case let .invalidInput(reason): return reason
        }
    }

    public static func == (a: TrackingError, b: TrackingError) -> Bool { a.description == b.description }
}
