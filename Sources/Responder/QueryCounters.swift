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

    public init() {}

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
        return sum
    }

    mutating func count(_ rcode: RCode) {
        switch rcode {
        case .noError: noError += 1
        case .nameError: nameError += 1
        case .serverFailure: serverFailure += 1
        case .refused: refused += 1
        case .formatError: formatError += 1
        case .notImplemented: notImplemented += 1
        case .badVersion: badVersion += 1
        default: break
        }
    }
}
