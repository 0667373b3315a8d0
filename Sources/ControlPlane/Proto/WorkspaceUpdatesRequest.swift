/// `coder.tailnet.v2.WorkspaceUpdatesRequest` (Proto/tailnet.proto): what coderdns sends
/// first on every control-plane connection.
///
/// ```
/// message WorkspaceUpdatesRequest {
///   bytes workspace_owner_id = 1;
/// }
/// ```
public struct WorkspaceUpdatesRequest: Equatable, Sendable {
    /// `workspace_owner_id`, field 1; empty asks for the authenticated user's workspaces.
    public var workspaceOwnerID: IdentifierField

    public init(workspaceOwnerID: IdentifierField = .empty) {
        self.workspaceOwnerID = workspaceOwnerID
    }

    /// Decodes one message (without its delimited framing).
    public init(serializedBytes bytes: [UInt8]) throws(ProtobufError) {
        self = try Self(decoding: bytes)
    }

    /// The message in protobuf's binary format, byte for byte what protoc's generated code
    /// writes (without delimited framing).
    public func serializedBytes() -> [UInt8] { encoded() }
}

extension WorkspaceUpdatesRequest: ProtobufMessage {
    init(from reader: inout ProtobufReader) throws(ProtobufError) {
        self.init()
        while !reader.isAtEnd {
            let tag = try reader.readTag()
            switch (tag.field, tag.wireType) {
            case (1, .lengthDelimited): workspaceOwnerID = try reader.readIdentifier()
            default: try reader.skipField(tag)
            }
        }
    }

    func write(to writer: inout ProtobufWriter) {
        writer.write(field: 1, workspaceOwnerID)
    }

    var encodedSize: Int { ProtobufWriter.size(field: 1, workspaceOwnerID) }
}
