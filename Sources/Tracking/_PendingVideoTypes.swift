// TEMPORARY: the Video module's image types, copied from its published API contract so this
// branch builds before `video` lands on main. Delete this file when merging main.
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3)
        self.width = width; self.height = height; self.pixels = pixels
    }
    public init(width: Int, height: Int) {
        self.width = width; self.height = height; pixels = [UInt8](repeating: 0, count: width * height * 3)
    }
}
public struct GrayImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height)
        self.width = width; self.height = height; self.pixels = pixels
    }
    public init(width: Int, height: Int) {
        self.width = width; self.height = height; pixels = [UInt8](repeating: 0, count: width * height)
    }
}
