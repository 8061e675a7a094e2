// Video's and Tracking's images become the model's ImageU8 as views: same bytes, same buffer.
import Tensors
import Testing
import Tracking
import Video
@testable import Pipeline

@Suite struct ImageViewsTests {
    static func address(_ a: [UInt8]) -> UnsafeRawPointer? { a.withUnsafeBytes { $0.baseAddress } }

    @Test func rgbFrameIsSharedNotCopied() {
        let rgb = RGBImage(width: 4, height: 3, pixels: (0 ..< 36).map { UInt8($0) })
        let view = ImageU8(rgb)
        #expect(view == ImageU8(width: 4, height: 3, channels: 3, pixels: rgb.pixels))
        #expect(Self.address(view.pixels) == Self.address(rgb.pixels))
    }

    @Test func maskAndGrayImageAreSharedNotCopied() {
        let mask = Mask(width: 5, height: 2) { x, y in x > y }
        let view = ImageU8(mask)
        #expect(view.channels == 1 && view.pixels == mask.bits)
        #expect(Self.address(view.pixels) == Self.address(mask.bits))
        let gray = GrayImage(width: 2, height: 2, pixels: [0, 255, 3, 0])
        let grayView = ImageU8(gray)
        #expect(grayView.channels == 1 && grayView.pixels == gray.pixels)
        #expect(Self.address(grayView.pixels) == Self.address(gray.pixels))
    }
}
