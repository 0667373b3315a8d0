import ControlPlane
import Logging
import RecordStore
import Synchronization
import Testing

@Suite("The control-plane client's lifetime")
struct ControlPlaneClientLifetimeTests {
    /// A feed that never connects: the session backs off and waits until it is stopped.
    final class UnreachableFeed: UpdateFeed {
        let cancelled = Atomic<Bool>(false)
        var destination: String { "nowhere" }
        func connect() -> Result<any UpdateConnection, FeedFailure> {
            .failure(FeedFailure("refused", severity: .routine))
        }
        func cancel() { cancelled.store(true, ordering: .relaxed) }
    }

    /// Regression (LeakSanitizer, under `scripts/sanitize address`): the client kept its
    /// thread after `stop()`, and the thread's closure kept the client, so neither was ever
    /// freed; the binary's leak check at exit failed every run with `--control-plane`.
    @Test func aStoppedClientIsFreedWithItsThreadAndFeed() throws {
        weak var weakClient: ControlPlaneClient?
        weak var weakFeed: UnreachableFeed?
        do {
            let feed = UnreachableFeed()
            let client = ControlPlaneClient(
                feed: feed, options: ControlPlaneOptions(), configuration: Support.configuration,
                publisher: SnapshotPublisher(.empty(configuration: Support.configuration)), initialState: nil,
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
            try client.start()
            client.stop()
            let cancelled = feed.cancelled.load(ordering: .relaxed)
            #expect(cancelled)
            weakClient = client
            weakFeed = feed
        }
        #expect(weakClient == nil)
        #expect(weakFeed == nil)
    }
}
