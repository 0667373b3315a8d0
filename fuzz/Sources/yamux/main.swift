import FuzzDriver
import Yamux

// yamux's receiving side on arbitrary bytes: a client session that has opened two streams
// (1 and 3) receives the input (after its first byte, which chooses where it is cut into
// reads). Properties: no trap; the outcome does not depend on the cuts: the same error, or
// the same data per stream and the same other events in the same order, and the same output.
func normalized(_ events: [YamuxEvent]) -> [YamuxEvent] {
    var result: [YamuxEvent] = []
    for event in events {
        if case .data(let stream, let bytes) = event {
            if bytes.isEmpty { continue }
            if case .data(let last, let previous)? = result.last, last == stream {
                result[result.count - 1] = .data(streamID: stream, bytes: previous + bytes)
                continue
            }
        }
        result.append(event)
    }
    return result
}

func run(_ stream: UnsafeRawBufferPointer, splitter: Splitter?) -> (Result<[YamuxEvent], YamuxError>, [UInt8]) {
    var session = YamuxSession(now: 0)
    _ = session.openStream()
    _ = session.openStream()
    var events: [YamuxEvent] = []
    var splitter = splitter
    var failure: YamuxError?
    let feed: (UnsafeRawBufferPointer) -> Void = { piece in
        guard failure == nil else { return }
        do throws(YamuxError) {
            events += try session.receive(piece, now: 0)
        } catch {
            failure = error
        }
    }
    if splitter != nil { splitter!.split(stream, feed) } else { feed(stream) }
    let output = session.takeOutput()
    if let failure { return (.failure(failure), output) }
    return (.success(normalized(events)), output)
}

runFuzzer { data in
    guard let seed = data.first else { return }
    let stream = UnsafeRawBufferPointer(rebasing: data[1...])
    let (split, splitOutput) = run(stream, splitter: Splitter(seed: seed))
    let (whole, wholeOutput) = run(stream, splitter: nil)
    fuzzCheck(split == whole, "the outcome depends on the cuts: \(split) vs \(whole)")
    if case .success = whole {
        fuzzCheck(splitOutput == wholeOutput, "the output depends on the cuts")
    }
}
