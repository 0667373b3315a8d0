import RecordStore

/// `coder.tailnet.v2.WorkspaceUpdate` (Proto/tailnet.proto): one message of the control
/// plane's update stream. The first on a connection is a snapshot (everything upserted),
/// the others are diffs.
///
/// ```
/// message WorkspaceUpdate {
///   repeated Workspace upserted_workspaces = 1;
///   repeated Agent upserted_agents = 2;
///   repeated Workspace deleted_workspaces = 3;
///   repeated Agent deleted_agents = 4;
/// }
/// ```
public struct WorkspaceUpdate: Equatable, Sendable {
    /// `upserted_workspaces`, field 1.
    public var upsertedWorkspaces: [Workspace] = []
    /// `upserted_agents`, field 2.
    public var upsertedAgents: [Agent] = []
    /// `deleted_workspaces`, field 3: only the ids matter.
    public var deletedWorkspaces: [Workspace] = []
    /// `deleted_agents`, field 4: only the ids matter.
    public var deletedAgents: [Agent] = []

    public init() {}

    /// `coder.tailnet.v2.Workspace`.
    ///
    /// ```
    /// message Workspace {
    ///   bytes id = 1;
    ///   string name = 2;
    ///   Status status = 3;  // enum, varint
    /// }
    /// ```
    public struct Workspace: Equatable, Sendable {
        /// `id`, field 1.
        public var id: IdentifierField
        /// `name`, field 2, as sent (not yet checked as a DNS label).
        public var name: String
        /// `status`, field 3. A value this schema does not know decodes as `.unknown`.
        public var status: WorkspaceStatus

        public init(id: IdentifierField = .empty, name: String = "", status: WorkspaceStatus = .unknown) {
            self.id = id
            self.name = name
            self.status = status
        }
    }

    /// `coder.tailnet.v2.Agent`.
    ///
    /// ```
    /// message Agent {
    ///   bytes id = 1;
    ///   string name = 2;
    ///   bytes workspace_id = 3;
    /// }
    /// ```
    public struct Agent: Equatable, Sendable {
        /// `id`, field 1.
        public var id: IdentifierField
        /// `name`, field 2, as sent (not yet checked as a DNS label).
        public var name: String
        /// `workspace_id`, field 3.
        public var workspaceID: IdentifierField

        public init(id: IdentifierField = .empty, name: String = "", workspaceID: IdentifierField = .empty) {
            self.id = id
            self.name = name
            self.workspaceID = workspaceID
        }
    }

    /// Decodes one message (without its delimited framing).
    public init(serializedBytes bytes: [UInt8]) throws(ProtobufError) {
        self = try Self(decoding: bytes)
    }

    /// The message in protobuf's binary format, byte for byte what protoc's generated code
    /// writes (without delimited framing).
    public func serializedBytes() -> [UInt8] { encoded() }
}

extension WorkspaceUpdate: ProtobufMessage {
    init(from reader: inout ProtobufReader) throws(ProtobufError) {
        self.init()
        // Each array allocated once, at its final size: growing them by doubling would cost a
        // 100,000-workspace snapshot more in copying and page faults than the decoding does.
        let counts = Self.elementCounts(reader)
        upsertedWorkspaces.reserveCapacity(counts[1])
        upsertedAgents.reserveCapacity(counts[2])
        deletedWorkspaces.reserveCapacity(counts[3])
        deletedAgents.reserveCapacity(counts[4])
        while !reader.isAtEnd {
            let tag = try reader.readTag()
            switch (tag.field, tag.wireType) {
            case (1, .lengthDelimited): upsertedWorkspaces.append(try Self.element(from: &reader, "upserted_workspaces", upsertedWorkspaces.count))
            case (2, .lengthDelimited): upsertedAgents.append(try Self.element(from: &reader, "upserted_agents", upsertedAgents.count))
            case (3, .lengthDelimited): deletedWorkspaces.append(try Self.element(from: &reader, "deleted_workspaces", deletedWorkspaces.count))
            case (4, .lengthDelimited): deletedAgents.append(try Self.element(from: &reader, "deleted_agents", deletedAgents.count))
            default: try reader.skipField(tag)
            }
        }
    }

    /// How many length-delimited fields of each number 1 to 4 the message has, by a skim over
    /// the top-level tags that stops at the first malformed byte (the decoding reports it).
    private static func elementCounts(_ reader: ProtobufReader) -> [Int] {
        var skim = reader
        var counts = [0, 0, 0, 0, 0]
        while !skim.isAtEnd {
            guard let tag = try? skim.readTag(), (try? skim.skipField(tag)) != nil else { break }
            if tag.wireType == .lengthDelimited && tag.field <= 4 { counts[Int(tag.field)] += 1 }
        }
        return counts
    }

    /// One element of a repeated message field; an error inside it names the element.
    private static func element<Message: ProtobufMessage>(
        from reader: inout ProtobufReader, _ field: StaticString, _ index: Int
    ) throws(ProtobufError) -> Message {
        var nested = try reader.readMessage()
        do throws(ProtobufError) {
            return try Message(from: &nested)
        } catch {
            throw .nested("\(field)[\(index)]", error)
        }
    }

    func write(to writer: inout ProtobufWriter) {
        for workspace in upsertedWorkspaces { writer.write(field: 1, workspace) }
        for agent in upsertedAgents { writer.write(field: 2, agent) }
        for workspace in deletedWorkspaces { writer.write(field: 3, workspace) }
        for agent in deletedAgents { writer.write(field: 4, agent) }
    }

    var encodedSize: Int {
        upsertedWorkspaces.reduce(0) { $0 + ProtobufWriter.size(field: 1, $1) }
            + upsertedAgents.reduce(0) { $0 + ProtobufWriter.size(field: 2, $1) }
            + deletedWorkspaces.reduce(0) { $0 + ProtobufWriter.size(field: 3, $1) }
            + deletedAgents.reduce(0) { $0 + ProtobufWriter.size(field: 4, $1) }
    }
}

extension WorkspaceUpdate.Workspace: ProtobufMessage {
    init(from reader: inout ProtobufReader) throws(ProtobufError) {
        self.init()
        while !reader.isAtEnd {
            let tag = try reader.readTag()
            switch (tag.field, tag.wireType) {
            case (1, .lengthDelimited): id = try reader.readIdentifier()
            case (2, .lengthDelimited): name = try reader.readString(tag)
            case (3, .varint):
                // An enum is an int32 on the wire: the low 32 bits count, as in protoc's code.
                let value = Int32(truncatingIfNeeded: try reader.readVarint())
                status = WorkspaceStatus(rawValue: Int(value)) ?? .unknown
            default: try reader.skipField(tag)
            }
        }
    }

    func write(to writer: inout ProtobufWriter) {
        writer.write(field: 1, id)
        writer.write(field: 2, name)
        writer.write(field: 3, UInt64(status.rawValue))
    }

    var encodedSize: Int {
        ProtobufWriter.size(field: 1, id) + ProtobufWriter.size(field: 2, name) + ProtobufWriter.size(field: 3, UInt64(status.rawValue))
    }
}

extension WorkspaceUpdate.Agent: ProtobufMessage {
    init(from reader: inout ProtobufReader) throws(ProtobufError) {
        self.init()
        while !reader.isAtEnd {
            let tag = try reader.readTag()
            switch (tag.field, tag.wireType) {
            case (1, .lengthDelimited): id = try reader.readIdentifier()
            case (2, .lengthDelimited): name = try reader.readString(tag)
            case (3, .lengthDelimited): workspaceID = try reader.readIdentifier()
            default: try reader.skipField(tag)
            }
        }
    }

    func write(to writer: inout ProtobufWriter) {
        writer.write(field: 1, id)
        writer.write(field: 2, name)
        writer.write(field: 3, workspaceID)
    }

    var encodedSize: Int {
        ProtobufWriter.size(field: 1, id) + ProtobufWriter.size(field: 2, name) + ProtobufWriter.size(field: 3, workspaceID)
    }
}
