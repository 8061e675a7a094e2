// Every JSON document gar writes goes through here: a real encoder (never string interpolation,
// so quotes, backslashes and control characters in paths are escaped), snake_case keys, sorted
// keys (the same input gives the same bytes), slashes not escaped. Each top-level object carries
// `schema_version`; the schemas and their versions are listed in README.md "JSON outputs".
import Foundation

public enum JSONOutput {
    /// The encoder of all outputs: keys converted to snake_case (`msPerFrame` → `ms_per_frame`;
    /// a `CodingKeys` raw value already in snake_case is kept), sorted.
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        e.keyEncodingStrategy = .convertToSnakeCase
        return e
    }

    /// `value` as one JSON text.
    public static func string<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
        String(decoding: try encoder(pretty: pretty).encode(value), as: UTF8.self)
    }

    /// A JSONSerialization document (a dictionary built by hand) with sorted keys; used where a
    /// Codable type would only repeat the dictionary.
    public static func string(object: Any, pretty: Bool = false) throws -> String {
        var options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { options.insert(.prettyPrinted) }
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: options), as: UTF8.self)
    }
}

/// The `schema_version` key, for types that write their keys by hand (`encode(to:)`).
enum SchemaVersionKey: String, CodingKey { case schemaVersion = "schema_version" }

extension Encoder {
    /// Adds `"schema_version": version` to the object being encoded.
    func encodeSchemaVersion(_ version: Int) throws {
        var c = container(keyedBy: SchemaVersionKey.self)
        try c.encode(version, forKey: .schemaVersion)
    }
}

/// A result written with its `schema_version` and derived values that are computed properties of
/// it, not stored keys (the benchmarks' `ratios`): `JSONOutput.string(WithDerived(…), pretty: true)`.
struct WithDerived<Result: Encodable, Derived: Encodable>: Encodable {
    let result: Result
    let schemaVersion: Int
    let ratios: Derived?
    private enum Keys: String, CodingKey { case ratios }

    func encode(to encoder: Encoder) throws {
        try result.encode(to: encoder)
        try encoder.encodeSchemaVersion(schemaVersion)
        var c = encoder.container(keyedBy: Keys.self)
        try c.encodeIfPresent(ratios, forKey: .ratios)
    }
}
