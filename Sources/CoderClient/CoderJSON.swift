import RecordStore

/// The few fields coderdns reads from coderd's JSON (a pull reader: everything else is skipped).
enum CoderJSON {
    struct Response {
        var message: String?
        var detail: String?
        var validations: [(String, String)] = []
    }

    /// `GET /api/v2/users/me`: the owner's `id` and `username`.
    static func user(_ body: [UInt8]) throws -> (id: Identifier, username: String) {
        var id: String?
        var username: String?
        try read(body) { key, cursor in
            switch key {
            case "id": id = try cursor.kind() == .string ? try cursor.readString() : nil
            case "username": username = try cursor.kind() == .string ? try cursor.readString() : nil
            default: try cursor.skipValue()
            }
        }
        guard let id, let identifier = Identifier(string: id) else { throw FieldError(field: "id") }
        guard let username, !username.isEmpty else { throw FieldError(field: "username") }
        return (identifier, username)
    }

    /// `GET /api/v2/workspaceagents/connection`: `hostname_suffix` (empty or absent means `coder`).
    static func hostnameSuffix(_ body: [UInt8]) throws -> String {
        var suffix = ""
        try read(body) { key, cursor in
            if key == "hostname_suffix", try cursor.kind() == .string {
                suffix = try cursor.readString()
            } else {
                try cursor.skipValue()
            }
        }
        return suffix.isEmpty ? "coder" : suffix
    }

    /// coderd's error body, `codersdk.Response`.
    static func response(_ body: [UInt8]) throws -> Response {
        var response = Response()
        try read(body) { key, cursor in
            switch key {
            case "message" where try cursor.kind() == .string: response.message = try cursor.readString()
            case "detail" where try cursor.kind() == .string: response.detail = try cursor.readString()
            case "validations" where try cursor.kind() == .array:
                try cursor.readArray { _, element in
                    var field = ""
                    var detail = ""
                    guard try element.kind() == .object else {
                        try element.skipValue()
                        return
                    }
                    try element.readObject { key, value in
                        if key == "field", try value.kind() == .string {
                            field = try value.readString()
                        } else if key == "detail", try value.kind() == .string {
                            detail = try value.readString()
                        } else {
                            try value.skipValue()
                        }
                    }
                    response.validations.append((field, detail))
                }
            default: try cursor.skipValue()
            }
        }
        return response
    }

    struct FieldError: Error, CustomStringConvertible {
        let field: String
        var description: String { "no usable \"\(field)\" in the JSON" }
    }

    private static func read(_ body: [UInt8], _ each: (String, inout JSONCursor) throws -> Void) throws {
        try body.withUnsafeBytes { raw in
            var cursor = JSONCursor(raw)
            guard try cursor.kind() == .object else { throw FieldError(field: "{") }
            try cursor.readObject(each)
            try cursor.finish()
        }
    }
}
