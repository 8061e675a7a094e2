// Errors of the SAM 2 library: each names the input and the problem in one line.

public enum SAM2Error: Error, CustomStringConvertible, Equatable {
    /// config.json asks for something this implementation does not do (or is inconsistent).
    case unsupportedConfig(file: String, problem: String)
    /// A prompt or image the model cannot use (no prompt, a point outside the image, a mask of the wrong size, …).
    case invalidInput(String)

    public var description: String {
        switch self {
        case let .unsupportedConfig(file, problem): return "\(file): unsupported SAM 2 configuration: \(problem)"
        case let .invalidInput(problem): return "SAM 2: \(problem)"
        }
    }
}
