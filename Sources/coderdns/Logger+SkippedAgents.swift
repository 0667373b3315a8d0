import Logging
import RecordStore

extension Logger {
    /// Logs the agents of a state file whose names are not served: one warning each, at most
    /// 20, then one with the count of the rest.
    func reportSkipped(_ skipped: [SkippedAgent], file: String) {
        for agent in skipped.prefix(20) {
            warning("names not served", metadata: ["file": "\(file)", "agent": "\(agent.location)", "reason": "\(agent.reason)"])
        }
        if skipped.count > 20 { warning("more agents whose names are not served", metadata: ["file": "\(file)", "count": "\(skipped.count - 20)"]) }
    }
}
