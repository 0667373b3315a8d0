import CSocketShim
import Glibc

/// How many worker threads make sense: the CPUs this process may actually use, not the
/// machine's. A server confined to one CPU (taskset, a cpuset, systemd's CPUAffinity=) or
/// to a CPU quota (a container's or systemd's CPUQuota=, cgroup v2 `cpu.max`) gains nothing
/// from a second event loop on the same CPU and pays for the switches between them.
public enum AvailableCPUs {
    /// min(the affinity mask's CPUs, the cgroup quota rounded up), at least 1.
    public static func count() -> Int {
        var count = Int(cdns_available_cpus())
        if count < 1 { count = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
        if let quota = cgroupQuota() { count = min(count, quota) }
        return max(1, count)
    }

    /// CPUs allowed by this process's cgroup v2 `cpu.max` (`QUOTA PERIOD`, or `max` for no
    /// limit), rounded up; nil without a limit or without cgroup v2.
    static func cgroupQuota() -> Int? {
        // "0::/system.slice/coderdns.service" on cgroup v2.
        guard let membership = readSmall("/proc/self/cgroup"),
            let line = membership.split(separator: "\n").first(where: { $0.hasPrefix("0::") })
        else { return nil }
        let path = String(line.dropFirst(3))
        guard let text = readSmall("/sys/fs/cgroup\(path == "/" ? "" : path)/cpu.max") else { return nil }
        return parseQuota(text)
    }

    /// `cpu.max`'s text → CPUs, rounded up; nil for `max` or anything unreadable.
    public static func parseQuota(_ text: String) -> Int? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count >= 2, let quota = Double(fields[0]), let period = Double(fields[1]), quota > 0, period > 0 else { return nil }
        return max(1, Int((quota / period).rounded(.up)))
    }

    private static func readSmall(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }
}
