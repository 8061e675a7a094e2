import Testing
@testable import Pipeline

@Suite struct PipelineSmokeTests {
    @Test func moduleLoads() { #expect(PipelineModule.name == "Pipeline") }
}
