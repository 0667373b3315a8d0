/// Jittered exponential backoff for redialing: from `minimum`, doubling to `maximum`, each
/// delay drawn uniformly from [delay/2, delay] so that many clients do not redial in step.
public struct Backoff: Sendable {
    public let minimum: Double
    public let maximum: Double
    private var current: Double

    public init(minimum: Double = 0.05, maximum: Double = 10) {
        self.minimum = minimum
        self.maximum = maximum
        current = minimum
    }

    /// The next delay in seconds; `random` is in [0, 1).
    public mutating func next(random: Double) -> Double {
        let delay = current * (0.5 + random / 2)
        current = min(current * 2, maximum)
        return delay
    }

    /// After a failure that retrying soon will not mend (a bad login, a coderd too old): wait
    /// the longest from now on, until a session works again.
    public mutating func saturate() { current = maximum }

    /// After a session that worked, start again from the minimum.
    public mutating func reset() { current = minimum }
}

/// Durations as `--max-stale` takes them: `90s`, `5m`, `2h`, `1h30m`, `1.5h`, `500ms`.
public enum Duration {
    public static func seconds(from text: String) -> Double? {
        var total = 0.0
        var number = ""
        var unit = ""
        var parts: [(Double, String)] = []
        func flush() -> Bool {
            guard let value = Double(number), !unit.isEmpty else { return false }
            parts.append((value, unit))
            number = ""
            unit = ""
            return true
        }
        for char in text {
            if char.isNumber || char == "." {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(char)
            } else if char.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(char)
            } else {
                return nil
            }
        }
        guard flush(), !parts.isEmpty else { return nil }
        for (value, unit) in parts {
            switch unit {
            case "ms": total += value / 1000
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            case "d": total += value * 86400
            default: return nil
            }
        }
        return total > 0 ? total : nil
    }
}
