// Values on a sensor's decimal grid: `mantissa × 10^exponent` ⇄ Double.
//
// `value(mantissa:exponent:)` is always the Double nearest to the decimal: the same Double a JSON parser produces
// for its text (`21.54`). For |mantissa| ≤ 2^53 and |exponent| ≤ 22 both operands are exact and one IEEE
// operation rounds correctly; outside that range the decimal text is parsed (correctly rounded) instead. That is why the gRPC and REST paths store
// identical values for the same reading, and why encoding then decoding a value on the grid is lossless.

#if canImport(Glibc)
internal import Glibc  // libm: rounding
#endif

/// Conversions between decimal mantissas and Doubles.
public enum DecimalGrid {
    /// 10^0 … 10^30; exact up to 10^22.
    static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
        1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30,
    ]

    /// `mantissa × 10^exponent` as the nearest Double, for every Int64 mantissa and exponent in
    /// `Series.exponentRange`.
    @inline(__always)
    public static func value(mantissa: Int64, exponent: Int32) -> Double {
        // Fast path: both operands exact (|m| ≤ 2^53, |e| ≤ 22), so one correctly rounded IEEE operation gives the
        // nearest Double.
        if mantissa.magnitude <= 1 << 53 && exponent >= -22 && exponent <= 22 {
            if exponent == 0 { return Double(mantissa) }
            if exponent < 0 { return Double(mantissa) / powersOfTen[Int(-exponent)] }
            return Double(mantissa) * powersOfTen[Int(exponent)]
        }
        // Otherwise an inexact operand would add a second rounding: read the decimal the way a JSON parser reads
        // `21.54` (correctly rounded), so gRPC and REST store the same Double for the same reading.
        return Double("\(mantissa)e\(exponent)")!
    }

    /// The integer mantissa whose grid value is exactly `value`; nil when `value` is not on the grid of
    /// `exponent` (or is not finite, or the mantissa would not fit Int64).
    public static func mantissa(of value: Double, exponent: Int32) -> Int64? {
        guard value.isFinite, Series.exponentRange.contains(exponent) else { return nil }
        let scaled =
            exponent <= 0 ? value * powersOfTen[Int(-exponent)] : value / powersOfTen[Int(exponent)]
        let rounded = scaled.rounded()
        guard abs(rounded) < 9.2e18 else { return nil }
        let candidate = Int64(rounded)
        if Self.value(mantissa: candidate, exponent: exponent) == value { return candidate }
        // The scaling above may be off by one unit in the last place; check the neighbours.
        for neighbour in [candidate &- 1, candidate &+ 1] where Self.value(mantissa: neighbour, exponent: exponent) == value {
            return neighbour
        }
        return nil
    }
}
