// The strict JSON parser used for tokenizer files.
import Foundation
import Testing
@testable import Tokenizers

@Suite struct JSONValueTests {
    func parse(_ s: String) throws -> JSONValue { try JSONValue.parse(Array(s.utf8)) }

    @Test func valuesAndEscapes() throws {
        let v = try parse(#" {"a": [1, -2, 3.5, 1e3, true, false, null], "s": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "e": {}} "#)
        #expect(v["a"] == .array([.int(1), .int(-2), .double(3.5), .double(1000), .bool(true), .bool(false), .null]))
        #expect(v["s"] == .string("x\"\\/\u{8}\u{C}\n\r\té😀"))
        #expect(v["e"] == .object([]))
        #expect(v["missing"] == nil)
        // Duplicate keys: the last wins (serde maps); members keep file order.
        let d = try parse(#"{"k": 1, "k": 2}"#)
        #expect(d["k"] == .int(2))
    }

    @Test func stringsCompareByBytes() throws {
        // "é" precomposed vs "e" + U+0301 are equal Swift Strings but different tokens.
        #expect(try parse(#""\u00e9""#) != parse(#""e\u0301""#))
    }

    @Test(arguments: [
        (#"{"a": 1,}"#, "expected a string key"), (#"[1 2]"#, "expected ',' or ']'"), (#""\ud800""#, "lone surrogate"),
        (#""\udc00x""#, "lone surrogate"), ("\"a\u{01}\"", "control character"), (#"01"#, "unexpected text"),
        (#"{"a": tru}"#, "invalid literal"), (#"[1] x"#, "unexpected text"), (#""abc"#, "unterminated"),
        (#"-"#, "invalid number"), (#"1."#, "invalid number"), (#""\x""#, "invalid escape"), ("", "unexpected end"),
    ])
    func rejects(text: String, reason: String) {
        do {
            _ = try parse(text)
            Issue.record("accepted \(show(text))")
        } catch let e as JSONValue.ParseError {
            #expect(e.reason.contains(reason), "\(show(text)): \(e.reason)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Array(String(repeating: "[", count: 10_000).utf8)) }
    }
}
