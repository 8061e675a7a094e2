// The strict JSON parser (JSONCore) as tokenizer files use it (JSONField.parseOptions).
import Foundation
import JSONCore
import Testing
@testable import Tokenizers

@Suite struct JSONValueTests {
    func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue { try StrictJSON.parse(bytes, options: JSONField.parseOptions) }
    func parse(_ s: String) throws(JSONParseError) -> JSONValue { try parse(Array(s.utf8)) }

    @Test func valuesAndEscapes() throws {
        let v = try parse(#" {"a": [1, -2, 3.5, 1e3, true, false, null], "s": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "e": {}} "#)
        #expect(v["a"] == .array([.integer(1), .integer(-2), .number(3.5), .number(1000), .bool(true), .bool(false), .null]))
        #expect(v["s"] == .string("x\"\\/\u{8}\u{C}\n\r\té😀"))
        #expect(v["e"] == .object([]))
        #expect(v["missing"] == nil)
        // Duplicate keys: the last wins (serde maps); members keep file order.
        let d = try parse(#"{"k": 1, "k": 2}"#)
        #expect(d["k"] == .integer(2))
    }

    @Test func stringsCompareByBytes() throws {
        // "é" precomposed vs "e" + U+0301 are equal Swift Strings but different tokens.
        #expect(try parse(#""\u00e9""#) != parse(#""e\u0301""#))
    }

    @Test(arguments: [
        (#"{"a": 1,}"#, "expected a string key"), (#"[1 2]"#, "expected ',' or ']'"), (#""\ud800""#, "unpaired surrogate"),
        (#""\udc00x""#, "unpaired surrogate"), ("\"a\u{01}\"", "control character"), (#"01"#, "unexpected text"),
        (#"{"a": tru}"#, "invalid literal"), (#"[1] x"#, "unexpected text"), (#""abc"#, "unterminated"),
        (#"-"#, "invalid number"), (#"1."#, "invalid number"), (#""\x""#, "invalid escape"), ("", "unexpected end"),
    ])
    func rejects(text: String, reason: String) {
        do {
            _ = try parse(text)
            Issue.record("accepted \(show(text))")
        } catch {
            #expect(error.message.contains(reason), "\(show(text)): \(error.message)")
        }
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        #expect(throws: JSONParseError(offset: 2, message: "invalid UTF-8 in string")) { try parse([0x22, 0xFF, 0x22]) }
        #expect(throws: JSONParseError(offset: 512, message: "nesting deeper than 512")) {
            try parse(Array(String(repeating: "[", count: 10_000).utf8))
        }
    }
}
