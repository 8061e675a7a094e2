// The JSON bodies of the API (decoded strictly: a wrong type or a missing key is a 400 naming
// the key) and the conversion of a prompt to what the CLI builds (`RegionPrompt`, `PromptSpec`).
// Keys are snake_case on the wire (JSONOutput's encoder; decoder converts from snake_case).
import Foundation
import Pipeline
import Tracking

/// A prompt on one frame: exactly one of a box, clicks or a mask (COCO RLE).
struct PromptJSON: Codable, Sendable {
    /// [x1, y1, x2, y2], inclusive pixel corners.
    var box: [Int]?
    /// [[x, y, label], …]: label 1 = on the object, 0 = background.
    var points: [[Int]]?
    var mask: RLE?

    /// The prompt as the CLI's `RegionPrompt` (coordinates checked against the frame later, by
    /// `PromptSegmenter.validate`, the CLI's one check).
    func regionPrompt(width W: Int, height H: Int) throws -> RegionPrompt {
        let given = [box != nil, points != nil, mask != nil].filter { $0 }.count
        guard given == 1 else { throw APIError.badRequest("prompt: give exactly one of box, points or mask") }
        let limit = PromptPoint.maxCoordinate
        func checked(_ v: [Int], _ what: String) throws {
            for x in v where abs(x) > limit { throw APIError.badRequest("prompt \(what): \(x) is out of range (pixels, at most \(limit))") }
        }
        if let box {
            guard box.count == 4 else { throw APIError.badRequest("prompt box: expected [x1, y1, x2, y2], got \(box.count) numbers") }
            try checked(box, "box")
            guard box[2] >= box[0], box[3] >= box[1] else { throw APIError.badRequest("prompt box \(box): x2 must be >= x1 and y2 >= y1") }
            return .box(PixelBox(x: box[0], y: box[1], width: box[2] - box[0] + 1, height: box[3] - box[1] + 1))
        }
        if let points {
            guard !points.isEmpty else { throw APIError.badRequest("prompt points: empty list") }
            let pts = try points.map { p -> PromptPoint in
                guard p.count == 3, p[2] == 0 || p[2] == 1 else { throw APIError.badRequest("prompt points: each point is [x, y, label] with label 1 (object) or 0 (background), got \(p)") }
                try checked(p, "point")
                return PromptPoint(x: p[0], y: p[1], positive: p[2] == 1)
            }
            return RegionPrompt(points: pts)
        }
        let rle = mask!
        // Checked before decoding: the size must be the frame's (a huge claimed size is never allocated).
        guard rle.width == W && rle.height == H else {
            throw TrackingError.sizeMismatch(what: "prompt mask", got: (rle.width, rle.height), expected: (W, H))
        }
        return .mask(rle.mask())
    }
}

/// A region: a prompt on a frame.
struct RegionJSON: Codable, Sendable {
    var frame: Int
    var prompt: PromptJSON
}

struct AddVideoBody: Codable, Sendable { var path: String }

struct SegmentBody: Codable, Sendable {
    var frame: Int
    var prompt: PromptJSON
}

struct TrackBody: Codable, Sendable {
    var regions: [RegionJSON]
    /// Frames to track, spread uniformly (the prompted frames are added).
    var frames: Int?
}

struct AskBody: Codable, Sendable {
    var regions: [RegionJSON]?
    /// A finished track job whose masks are the regions.
    var track: String?
    var question: String
    var choices: [String]?
    var maxNewTokens: Int?
    var temperature: Float?
    var seed: UInt64?
    var stream: Bool?
}

/// OpenAI's chat completion request, with the video and regions in `gar`.
struct ChatBody: Codable, Sendable {
    struct Message: Codable, Sendable {
        var role: String
        var content: Content?
    }
    /// A string or a list of parts ({"type": "text", "text": …}).
    enum Content: Codable, Sendable {
        case text(String)
        case parts([Part])
        struct Part: Codable, Sendable { var type: String; var text: String? }
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { self = .text(s) } else { self = .parts(try c.decode([Part].self)) }
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .text(let s): try c.encode(s)
            case .parts(let p): try c.encode(p)
            }
        }
        var text: String {
            switch self {
            case .text(let s): return s
            case .parts(let p): return p.compactMap { $0.type == "text" ? $0.text : nil }.joined(separator: "\n")
            }
        }
    }
    struct Extension: Codable, Sendable {
        var video: String
        var regions: [RegionJSON]?
        var track: String?
        var choices: [String]?
    }
    var model: String?
    var messages: [Message]
    var stream: Bool?
    var maxTokens: Int?
    var temperature: Float?
    var seed: UInt64?
    var gar: Extension?
}

enum JSONBody {
    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }()

    static func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        guard !data.isEmpty else { throw APIError.badRequest("bad JSON: the body is empty") }
        do { return try decoder.decode(type, from: data) } catch let e as DecodingError {
            throw APIError.badRequest("bad JSON: \(APIError.describe(e))")
        } catch let e as TrackingError {
            throw APIError.badRequest("bad JSON: \(e.description)")   // a bad RLE inside a prompt
        }
    }
}
