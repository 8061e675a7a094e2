import Testing
@testable import Tokenizers

@Suite struct TokenizersSmokeTests {
    @Test func moduleLoads() { #expect(TokenizersModule.name == "Tokenizers") }
}
