import RecordStore

/// A protobuf `bytes` field that should hold a UUID (16 bytes), as every id of the
/// control-plane schema does.
///
/// Held without an allocation: the ``Identifier`` when the field is 16 bytes long, and the
/// length in any case. Bytes of any other length are not kept, because they are only ever
/// reported (as a length) and rejected; such a field encodes as that many zero bytes.
public struct IdentifierField: Equatable, Sendable {
    /// The 16 bytes; all zero for any other length.
    private let value: Identifier
    /// The field's length on the wire; 0 for an absent (proto3 default) field.
    public let length: Int

    /// The field when it is absent, or present and empty: the two are the same in proto3.
    public static let empty = IdentifierField(value: Identifier(high: 0, low: 0), length: 0)

    private init(value: Identifier, length: Int) {
        self.value = value
        self.length = length
    }

    public init(_ identifier: Identifier) {
        self.init(value: identifier, length: 16)
    }

    /// From bytes of any length; only 16 of them make an ``identifier``.
    public init(bytes: some Collection<UInt8>) {
        self.init(value: Identifier(bytes: bytes) ?? Identifier(high: 0, low: 0), length: bytes.count)
    }

    /// From the bytes of a decoded field.
    init(raw: UnsafeRawBufferPointer) {
        self.init(value: Identifier(raw: raw) ?? Identifier(high: 0, low: 0), length: raw.count)
    }

    /// The UUID, or nil when the field is not 16 bytes long.
    public var identifier: Identifier? { length == 16 ? value : nil }

    public var isEmpty: Bool { length == 0 }
}
