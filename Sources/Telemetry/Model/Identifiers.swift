/// The naming rules of the wire contract, checked on bytes so the codecs need no String work to validate.
public enum Identifiers {
    /// Longest sensor name: `[a-z0-9_.-]{1,64}`.
    public static let maxSensorNameLength = 64
    /// Longest device id: `[A-Za-z0-9._:-]{1,128}`.
    public static let maxDeviceIDLength = 128

    /// True when `byte` may appear in a sensor name (`[a-z0-9_.-]`).
    @inline(__always)
    public static func isSensorNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F || byte == 0x2E
            || byte == 0x2D
    }

    /// True when `byte` may appear in a device id (`[A-Za-z0-9._:-]`).
    @inline(__always)
    public static func isDeviceIDByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
            || byte == 0x5F || byte == 0x2E || byte == 0x3A || byte == 0x2D
    }

    /// True when `bytes` is a valid sensor name.
    public static func isValidSensorName<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        !bytes.isEmpty && bytes.count <= maxSensorNameLength && bytes.allSatisfy(isSensorNameByte)
    }

    /// True when `name` is a valid sensor name.
    public static func isValidSensorName(_ name: String) -> Bool { isValidSensorName(name.utf8) }

    /// True when `bytes` is a valid device id.
    public static func isValidDeviceID<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        !bytes.isEmpty && bytes.count <= maxDeviceIDLength && bytes.allSatisfy(isDeviceIDByte)
    }

    /// True when `id` is a valid device id.
    public static func isValidDeviceID(_ id: String) -> Bool { isValidDeviceID(id.utf8) }
}
