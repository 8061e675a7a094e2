import Testing
@testable import Video

@Suite struct VideoSmokeTests {
    @Test func moduleLoads() { #expect(VideoModule.name == "Video") }
}
