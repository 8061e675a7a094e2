import Testing
@testable import Tracking

@Suite struct TrackingSmokeTests {
    @Test func moduleLoads() { #expect(TrackingModule.name == "Tracking") }
}
