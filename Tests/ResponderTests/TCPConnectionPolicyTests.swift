import Responder
import Testing

@Suite("TCP connection policy")
struct TCPConnectionPolicyTests {
    @Test func underTheCapEveryConnectionIsAdmittedAndNoneIsEvicted() {
        var policy = TCPConnectionPolicy(maximumConnections: 3, idleTimeout: 5)
        let admitted = (0..<3).map { policy.admit(now: Double($0)) }
        #expect(admitted.map(\.evict) == [nil, nil, nil])
        #expect(Set(admitted.map(\.id)).count == 3)
        #expect(policy.count == 3)
    }

    @Test func atTheCapTheNewConnectionIsAdmittedAndTheOneWithTheOldestProgressIsEvicted() {
        // Without the grace, which the next tests cover.
        var policy = TCPConnectionPolicy(maximumConnections: 3, idleTimeout: 5, grace: 0)
        let silent = policy.admit(now: 100).id  // connects, sends nothing
        let asking = policy.admit(now: 101).id
        let dripping = policy.admit(now: 102).id  // bytes, but never a whole query
        policy.noteProgress(asking, now: 103)
        let newcomer = policy.admit(now: 104)
        #expect(newcomer.evict == silent)
        #expect(policy.count == 3)
        // Next: the dripping one (progress at 102, its admission), not the one that asked at 103.
        #expect(policy.admit(now: 105).evict == dripping)
        #expect(policy.admit(now: 106).evict == asking)
        #expect(policy.admit(now: 107).evict == newcomer.id)
    }

    @Test func aClientThatJustAskedOutlivesAsManyNewConnectionsAsTheCapLessOne() {
        var policy = TCPConnectionPolicy(maximumConnections: 256, idleTimeout: 5)
        for second in 0..<1000 { _ = policy.admit(now: Double(second) / 1000) }
        let client = policy.admit(now: 1)
        policy.noteProgress(client.id, now: 1.0001)
        var evicted: [TCPConnectionPolicy.ConnectionID] = []
        for index in 0..<255 { evicted += [policy.admit(now: 1.001 + Double(index) / 1000).evict].compactMap { $0 } }
        #expect(!evicted.contains(client.id))
        #expect(policy.admit(now: 2).evict == client.id)
    }

    /// The attack the grace answers: every other connection sends queries all the time, so
    /// each makes progress after a new client connects and before the server gets round to
    /// reading the client's query.
    @Test func aNewConnectionOutranksConnectionsThatMadeProgressAfterItUntilTheGraceEnds() {
        var policy = TCPConnectionPolicy(maximumConnections: 4, idleTimeout: 5, grace: 1)
        let flooders = (0..<3).map { _ in policy.admit(now: 0).id }
        for flooder in flooders { policy.noteProgress(flooder, now: 10) }
        let client = policy.admit(now: 10).id
        for flooder in flooders { policy.noteProgress(flooder, now: 10.5) }
        let newcomer = policy.admit(now: 10.6)
        #expect(newcomer.evict.map(flooders.contains) == true, "evicted \(String(describing: newcomer.evict)), not a flooder")
        // Once the grace is over the client ranks by its progress: its admission, at 10.
        let remaining = flooders.filter { $0 != newcomer.evict }
        for flooder in remaining { policy.noteProgress(flooder, now: 11.5) }
        #expect(policy.admit(now: 11.6).evict == client)
    }

    @Test func aNewConnectionIsEvictedByTheCapsWorthOfNewerOnesEvenWithinItsGrace() {
        var policy = TCPConnectionPolicy(maximumConnections: 3, idleTimeout: 5, grace: 1)
        let client = policy.admit(now: 0).id
        #expect(policy.admit(now: 0.1).evict == nil)
        #expect(policy.admit(now: 0.2).evict == nil)
        // Two newer connections are not enough; the third fills the cap without it.
        #expect(policy.admit(now: 0.3).evict == client)
    }

    @Test func theGraceDoesNotPostponeTheIdleTimeout() {
        var policy = TCPConnectionPolicy(maximumConnections: 2, idleTimeout: 5, grace: 1)
        let id = policy.admit(now: 100).id
        #expect(policy.deadline(of: id) == 105)
    }

    @Test func tiesGoToTheOlderConnection() {
        var policy = TCPConnectionPolicy(maximumConnections: 2, idleTimeout: 5)
        let first = policy.admit(now: 7).id
        _ = policy.admit(now: 7)
        #expect(policy.leastRecentlyUseful == first)
    }

    @Test func theDeadlineIsTheIdleTimeoutAfterTheLastProgress() {
        var policy = TCPConnectionPolicy(maximumConnections: 4, idleTimeout: 5)
        let id = policy.admit(now: 100).id
        #expect(policy.deadline(of: id) == 105)
        policy.noteProgress(id, now: 103)
        #expect(policy.deadline(of: id) == 108)
        // A reading from an earlier clock does not move it back.
        policy.noteProgress(id, now: 90)
        #expect(policy.deadline(of: id) == 108)
    }

    @Test func aRemovedConnectionHasNoDeadlineAndIsNeverEvicted() {
        var policy = TCPConnectionPolicy(maximumConnections: 2, idleTimeout: 5)
        let gone = policy.admit(now: 1).id
        let kept = policy.admit(now: 2).id
        policy.remove(gone)
        #expect(policy.deadline(of: gone) == nil)
        policy.noteProgress(gone, now: 3)
        #expect(policy.count == 1)
        #expect(policy.admit(now: 4).evict == nil)
        #expect(policy.admit(now: 5).evict == kept)
    }

    @Test func noConnectionsMeansNothingToEvict() {
        let policy = TCPConnectionPolicy(maximumConnections: 1, idleTimeout: 5)
        #expect(policy.leastRecentlyUseful == nil)
    }

    @Test(arguments: [
        (0, TCPConnectionPolicy.OutputAction.read),
        (TCPConnectionPolicy.outputHighWater, .read),
        (TCPConnectionPolicy.outputHighWater + 1, .pauseReading),
        (TCPConnectionPolicy.outputLimit, .pauseReading),
        (TCPConnectionPolicy.outputLimit + 1, .close),
    ])
    func unsentOutputPausesReadingThenCloses(pending: Int, action: TCPConnectionPolicy.OutputAction) {
        #expect(TCPConnectionPolicy.action(forPendingOutput: pending) == action)
    }
}
