// Decoding Hugging Face JSON config files with errors that name the file (its path as given)
// and the field: "models/GAR-1B/config.json: mllm_config.text_config.hidden_size: missing".
import Foundation
import JSONCore

/// Helpers shared by the config types.
public enum ConfigFile {
    /// Reads and decodes `T` from `path`. Syntax errors are located by byte offset (StrictJSON
    /// also rejects duplicate keys); type errors name the dotted field path.
    /// `snakeCaseKeys`: Swift properties in camel case match the JSON's snake-case keys
    /// (`layer_norm_eps` → `layerNormEps`) without a CodingKeys table.
    public static func decode<T: Decodable>(_ type: T.Type, path: String, snakeCaseKeys: Bool = false) throws -> T {
        guard FileManager.default.fileExists(atPath: path) else { throw CheckpointError.io(path: path, reason: "no such file") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CheckpointError.io(path: path, reason: "cannot read: \((error as NSError).localizedDescription)")
        }
        return try decode(type, data: data, fileName: path, snakeCaseKeys: snakeCaseKeys)
    }

    public static func decode<T: Decodable>(_ type: T.Type, data: Data, fileName: String, snakeCaseKeys: Bool = false) throws -> T {
        do { _ = try StrictJSON.parse(Array(data)) } catch {
            throw CheckpointError.config(file: fileName, field: "", problem: "\(error)")
        }
        do {
            let decoder = JSONDecoder()
            if snakeCaseKeys { decoder.keyDecodingStrategy = .convertFromSnakeCase }
            return try decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw mapDecodingError(error, fileName: fileName)
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError.config(file: fileName, field: "", problem: "\(error)")
        }
    }

    /// Turns a DecodingError into a one-line config error naming the field.
    static func mapDecodingError(_ error: DecodingError, fileName: String) -> CheckpointError {
        func path(_ keys: [CodingKey]) -> String {
            var out = ""
            for k in keys {
                if let i = k.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + k.stringValue }
            }
            return out
        }
        switch error {
        case let .keyNotFound(key, ctx):
            return .config(file: fileName, field: path(ctx.codingPath + [key]), problem: "missing")
        case let .valueNotFound(type, ctx):
            return .config(file: fileName, field: path(ctx.codingPath), problem: "is null, expected \(typeName(type))")
        case let .typeMismatch(type, ctx):
            return .config(file: fileName, field: path(ctx.codingPath), problem: "expected \(typeName(type))")
        case let .dataCorrupted(ctx):
            return .config(file: fileName, field: path(ctx.codingPath), problem: ctx.debugDescription)
        @unknown default:
            return .config(file: fileName, field: "", problem: "\(error)")
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int64.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        default:
            let s = String(describing: type)
            if s.hasPrefix("Array") { return "an array" }
            if s.hasPrefix("Dictionary") { return "an object" }
            return "an object"
        }
    }
}

/// A JSON value that may be a single integer or a list of integers (`eos_token_id`,
/// `img_size`, `ref_feat_shape`).
public struct IntOrList: Decodable, Equatable, Sendable {
    public var values: [Int]

    public init(_ values: [Int]) { self.values = values }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Int.self) {
            values = [v]
        } else if let v = try? c.decode([Int].self) {
            values = v
        } else {
            throw DecodingError.typeMismatch(Int.self, .init(codingPath: decoder.codingPath,
                                                             debugDescription: "expected an integer or a list of integers"))
        }
    }
}
