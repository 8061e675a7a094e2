// Errors of the Models module. Every description is ONE line that names the input and the problem,
// so the CLI can print it as is ("mask 0 is 640×480 but the image is 800×600").

public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// A model directory is missing a file, or a file there cannot be used.
    case modelFiles(path: String, problem: String)
    /// Two inputs that must agree in size do not.
    case sizeMismatch(what: String, size: (Int, Int), expected: String, expectedSize: (Int, Int))
    /// A region mask selects no pixel (the reference cannot box an empty mask).
    case emptyMask(what: String)
    /// More regions than the model has prompt tokens for (`<Prompt0>` … `<Prompt{n-1}>`).
    case tooManyRegions(count: Int, budget: Int)
    /// The question names `<PromptK>` but there is no mask K.
    case unknownRegion(name: String, regions: Int)
    /// Any other unusable request (empty image, no frames, bad option value, …).
    case invalidInput(String)
    /// The prompt does not fit the model's context.
    case contextOverflow(needed: Int, limit: Int)

    public var description: String {
        switch self {
        case let .modelFiles(path, problem):
            return "\(path): \(problem)"
        case let .sizeMismatch(what, size, expected, expectedSize):
            return "\(what) is \(size.0)×\(size.1) but \(expected) is \(expectedSize.0)×\(expectedSize.1)"
        case let .emptyMask(what):
            return "\(what) is empty (no pixel is set), so the region has no box"
        case let .tooManyRegions(count, budget):
            return "\(count) regions given, but the model has prompt tokens for at most \(budget)"
        case let .unknownRegion(name, regions):
            let have = regions == 0 ? "no mask was given"
                : regions == 1 ? "only <Prompt0> has a mask" : "only <Prompt0>…<Prompt\(regions - 1)> have masks"
            return "the question names \(name), but \(have)"
        case let .invalidInput(message):
            return message
        case let .contextOverflow(needed, limit):
            return "the prompt and generation need \(needed) positions, more than the model's \(limit)"
        }
    }

    public static func == (a: ModelError, b: ModelError) -> Bool { a.description == b.description }
}
