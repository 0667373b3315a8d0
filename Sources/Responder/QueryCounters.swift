import DNSWire

/// What one processor has answered, by outcome. Plain integers: each processor belongs to
/// one thread.
public struct QueryCounters: Sendable, Equatable {
    public var noError = 0
    public var nameError = 0
    public var serverFailure = 0
    public var refused = 0
    public var formatError = 0
    public var notImplemented = 0
    public var badVersion = 0
    public var truncated = 0
    public var dropped = 0
    /// Answered queries by ``TypeCategory`` (in its order).
    public var byType = [Int](repeating: 0, count: TypeCategory.allCases.count)

    /// The question types counted apart; the rest are `other`. `unread`: replies to requests
    /// whose question could not be read (FORMERR, NOTIMP for other opcodes).
    public enum TypeCategory: Int, CaseIterable, Sendable {
        case a, aaaa, ptr, soa, ns, any, other, unread

        public init(_ type: RecordType) {
            switch type {
            case .a: self = .a
            case .aaaa: self = .aaaa
            case .ptr: self = .ptr
            case .soa: self = .soa
            case .ns: self = .ns
            case .any: self = .any
            default: self = .other
            }
        }

        public var name: String {
            switch self {
            case .a: "A"
            case .aaaa: "AAAA"
            case .ptr: "PTR"
            case .soa: "SOA"
            case .ns: "NS"
            case .any: "ANY"
            case .other: "other"
            case .unread: "none"
            }
        }
    }

    public init() {}

    /// Every reply counted by its RCODE.
    public var answered: Int { noError + nameError + serverFailure + refused + formatError + notImplemented + badVersion }

    public static func + (lhs: QueryCounters, rhs: QueryCounters) -> QueryCounters {
        var sum = lhs
        sum.noError += rhs.noError
        sum.nameError += rhs.nameError
        sum.serverFailure += rhs.serverFailure
        sum.refused += rhs.refused
        sum.formatError += rhs.formatError
        sum.notImplemented += rhs.notImplemented
        sum.badVersion += rhs.badVersion
        sum.truncated += rhs.truncated
        sum.dropped += rhs.dropped
        for index in sum.byType.indices { sum.byType[index] += rhs.byType[index] }
        return sum
    }
}
