// `TextModelSpec.gar1B` (the layer shape `gar bench ops` times without a checkpoint) is what
// GAR-1B's config.json resolves to.
import Foundation
import Testing
@testable import Checkpoints

@Suite struct GAR1BTextSpecTests {
    @Test func gar1BConstantMatchesTheConfig() throws {
        let dir = try TempDir()
        try dir.write("config.json", GARConfigParams().json)
        let (_, spec) = try GARConfig.load(dir.url.path)
        #expect(spec.text == TextModelSpec.gar1B)
    }
}
