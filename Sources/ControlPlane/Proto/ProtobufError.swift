/// Why bytes are not a well-formed protobuf message of the control-plane schema. Offsets are
/// counted from the first byte of the whole message (after the delimited framing), also inside
/// nested messages, so a byte can be found with `xxd` on a captured message.
public enum ProtobufError: Error, Equatable, CustomStringConvertible {
    /// The message ends inside a varint that starts at `at`.
    case truncatedVarint(at: Int)
    /// A varint of more than 10 bytes, or whose 10th byte carries bits past the 64th.
    case overlongVarint(at: Int)
    /// A fixed-width value (32 or 64 bits) of an unknown field runs past the end.
    case truncatedFixed(bits: Int, at: Int)
    /// A length-delimited field's length, read at `at`, is more than the bytes left.
    case lengthPastEnd(at: Int, length: UInt64, available: Int)
    /// A tag with field number 0, which protobuf reserves.
    case fieldZero(at: Int)
    /// A tag whose field number is over 2^29 - 1, the largest protobuf allows.
    case fieldNumberTooLarge(at: Int)
    /// A start- or end-group tag (wire types 3 and 4): groups are a proto2 feature that
    /// this schema never uses, and skipping one would mean matching nested groups.
    case group(wireType: UInt8, field: UInt64, at: Int)
    /// Wire types 6 and 7 are not defined.
    case unknownWireType(UInt8, field: UInt64, at: Int)
    /// A `string` field that is not UTF-8 (proto3 requires it to be).
    case invalidUTF8(field: UInt64, at: Int)
    /// `error` happened inside the nested message `field` (for example
    /// `upserted_workspaces[3]`).
    indirect case nested(String, ProtobufError)

    public var description: String {
        switch self {
        case .truncatedVarint(let at): "truncated varint at byte \(at)"
        case .overlongVarint(let at): "overlong varint (over 10 bytes or 64 bits) at byte \(at)"
        case .truncatedFixed(let bits, let at): "truncated fixed\(bits) at byte \(at)"
        case .lengthPastEnd(let at, let length, let available):
            "length \(length) at byte \(at) runs past the end (bytes left: \(available))"
        case .fieldZero(let at): "field number 0 at byte \(at)"
        case .fieldNumberTooLarge(let at): "field number over 536870911 at byte \(at)"
        case .group(let type, let field, let at): "group (wire type \(type)) for field \(field) at byte \(at): groups are not supported"
        case .unknownWireType(let type, let field, let at): "unknown wire type \(type) for field \(field) at byte \(at)"
        case .invalidUTF8(let field, let at): "string field \(field) at byte \(at) is not UTF-8"
        case .nested(let field, let error): "\(error) in \(field)"
        }
    }
}
