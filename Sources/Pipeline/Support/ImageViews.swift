// The one place where Video's and Tracking's byte images become the model's `ImageU8`.
//
// `RGBImage`, `GrayImage` and `Mask` store the same row-major interleaved bytes as `ImageU8`, so a
// conversion is a view: the new value shares the source's pixel buffer (Swift arrays are
// copy-on-write and none of these values is mutated afterwards), no byte is copied.

import Tensors
import Tracking
import Video

extension ImageU8 {
    /// A decoded frame or still image as the model takes it (3 channels), sharing its bytes.
    init(_ image: RGBImage) {
        self.init(width: image.width, height: image.height, channels: 3, pixels: image.pixels)
    }

    /// A single-channel image (a mask file as read, nonzero inside), sharing its bytes.
    init(_ image: GrayImage) {
        self.init(width: image.width, height: image.height, channels: 1, pixels: image.pixels)
    }

    /// A tracked mask (one byte per pixel, 0 or 1) as the model's region image, sharing its bytes.
    init(_ mask: Mask) {
        self.init(width: mask.width, height: mask.height, channels: 1, pixels: mask.bits)
    }
}
