import Testing
@testable import Tensors

@Suite struct TensorsSmokeTests {
    @Test func moduleLoads() { #expect(TensorsModule.name == "Tensors") }
}
