import Testing

@testable import EventIO

@Suite("How many workers: the CPUs the process may use")
struct AvailableCPUsTests {
    @Test(
        arguments: [
            ("max 100000\n", nil), ("200000 100000\n", 2), ("150000 100000", 2), ("50000 100000", 1), ("100000 100000", 1),
            ("", nil), ("nonsense", nil), ("0 100000", nil),
        ] as [(String, Int?)])
    func aCgroupQuotaIsRoundedUpToWholeCPUs(text: String, cpus: Int?) {
        #expect(AvailableCPUs.parseQuota(text) == cpus)
    }

    @Test func thereIsAlwaysAtLeastOneWorker() {
        #expect(AvailableCPUs.count() >= 1)
    }
}
