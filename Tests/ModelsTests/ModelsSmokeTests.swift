import Testing
@testable import Models

@Suite struct ModelsSmokeTests {
    @Test func moduleLoads() { #expect(ModelsModule.name == "Models") }
}
