// Locating and reading the committed fixtures (repo-root relative, from this file's path).
import TestSupport
import Foundation
@testable import Tokenizers

enum Fixtures {
    /// The repository root: Tests/TokenizersTests/Fixtures.swift → ../../..
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The tiny Llama-3-structure tokenizer (Tests/Fixtures/generate/make_tokenizer.py).
    static let tokenizerDirectory = root.appendingPathComponent("Tests/Fixtures/tokenizer")
    static let parityDirectory = root.appendingPathComponent("Tests/Fixtures/tokenizer-parity")

    static let tokenizer: Tokenizer = {
        do { return try Tokenizer.load(directory: tokenizerDirectory) } catch { fatalError("fixture tokenizer: \(error)") }
    }()

    static func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        let data = try Data(contentsOf: parityDirectory.appendingPathComponent(name))
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// The fixture's tokenizer.json as a mutable JSON object.
    static func tokenizerJSON() throws -> [String: Any] {
        let data = try Data(contentsOf: tokenizerDirectory.appendingPathComponent("tokenizer.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// Writes a model directory (tokenizer.json from `json`, other files copied from the fixture
    /// unless replaced in `files`) to a fresh temporary directory and returns its URL.
    static func makeDirectory(tokenizerJSON json: [String: Any]?, files: [String: String] = [:],
                              copy: [String] = ["tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"]) throws -> URL {
        let dir = TestTemp.directory("gar-tok")
        if let json {
            let data = try JSONSerialization.data(withJSONObject: json)
            try data.write(to: dir.appendingPathComponent("tokenizer.json"))
        }
        for name in copy where files[name] == nil {
            let src = tokenizerDirectory.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: src.path) {
                try FileManager.default.copyItem(at: src, to: dir.appendingPathComponent(name))
            }
        }
        for (name, text) in files {
            try Data(text.utf8).write(to: dir.appendingPathComponent(name))
        }
        return dir
    }

    static func remove(_ dir: URL) { try? FileManager.default.removeItem(at: dir) }
}

/// Shows a string with its control characters escaped (for failure messages).
func show(_ s: String) -> String { quoted(s, limit: 200) }
