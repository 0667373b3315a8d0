/// An IPv6 address as two big-endian halves, ordered as the address is.
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }

    /// The 32 nibbles, most significant first.
    public var nibbles: [UInt8] {
        bytes.flatMap { [$0 >> 4, $0 & 0x0F] }
    }

    public var description: String {
        let groups = stride(from: 0, to: 16, by: 2).map { i -> String in
            String(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]), radix: 16)
        }
        return groups.joined(separator: ":")
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

/// The addresses of Coder Connect: the service prefix, the resolver, and agents.
public enum ServiceAddress {
    /// `fd60:627a:a42b::/48`, Coder's service prefix: the top 48 bits of `high`.
    public static let prefixHigh: UInt64 = 0xfd60_627a_a42b_0000
    public static let prefixLength = 48

    /// `fd60:627a:a42b::53`, the resolver's own address, which the sentinel name maps to.
    public static let resolver = IPv6Address(high: prefixHigh, low: 0x53)

    /// An agent's address: the prefix's 6 bytes, then bytes 6..15 of the agent's UUID.
    public static func agent(_ id: Identifier) -> IPv6Address {
        IPv6Address(high: prefixHigh | (id.high & 0x0000_0000_0000_FFFF), low: id.low)
    }

    public static func contains(_ address: IPv6Address) -> Bool {
        address.high & 0xFFFF_FFFF_FFFF_0000 == prefixHigh
    }
}
