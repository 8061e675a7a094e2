import Testing
@testable import Checkpoints

@Suite struct CheckpointsSmokeTests {
    @Test func moduleLoads() { #expect(CheckpointsModule.name == "Checkpoints") }
}
