import Testing

@testable import RecordStore

@Suite("NameTable: tagged slots, records with values")
struct NameTableTests {
    private func key(_ text: String) -> [UInt8] {
        var wire: [UInt8] = []
        for label in text.split(separator: ".") {
            wire.append(UInt8(label.utf8.count))
            wire.append(contentsOf: label.utf8)
        }
        return wire
    }

    @Test("Every key inserted through many growths is found with its value, and others are not")
    func growsAndFinds() {
        var table = NameTable(expectedCount: 0)
        let count = 20_000
        for i in 0..<count {
            let (index, inserted) = key("a\(i).ws\(i % 97).me").withUnsafeBytes { table.insert($0) }
            #expect(inserted && index == i)
        }
        // A second insert of the same key finds the first entry.
        let again = key("a5.ws5.me").withUnsafeBytes { table.insert($0) }
        #expect(again.index == 5 && !again.inserted)
        for i in 0..<count { table.setValue(UInt64(i) << 32 | 0xABCD, forEntry: i) }
        table.compact()
        #expect(table.count == count)
        for i in stride(from: 0, to: count, by: 7) {
            #expect(key("a\(i).ws\(i % 97).me").withUnsafeBytes { table.find($0) } == UInt64(i) << 32 | 0xABCD)
        }
        #expect(key("a1.ws2.me").withUnsafeBytes { table.find($0) } == nil)
        #expect(key("a1").withUnsafeBytes { table.find($0) } == nil)
    }

    @Test("A payload is kept beside its key's value and can be changed in place while building")
    func payloadsRideWithTheirKeys() {
        var table = NameTable(expectedCount: 0)
        for i in 0..<5_000 {
            let payload: [UInt8] = Array("payload-\(i)".utf8)
            _ = key("ws\(i)").withUnsafeBytes { key in payload.withUnsafeBytes { table.insert(key, payload: $0) } }
        }
        table.updatePayload(atRecord: Int(table.recordStart(ofEntry: 4_321))) { $0.storeBytes(of: UInt8(ascii: "P"), as: UInt8.self) }
        table.finishInserting()
        for i in stride(from: 0, to: 5_000, by: 13) + [4_321] {
            let expected = Array((i == 4_321 ? "Payload-\(i)" : "payload-\(i)").utf8)
            let found = key("ws\(i)").withUnsafeBytes { key in
                table.withEntry(key) { value, payload in (value, Array(UnsafeRawBufferPointer(start: payload, count: expected.count))) }
            }
            #expect(found?.0 == UInt64(i) && found?.1 == expected, "ws\(i)")
        }
        #expect(key("ws5000").withUnsafeBytes { key in table.withEntry(key) { value, _ in value } } == nil)
    }

    @Test("An empty table finds nothing")
    func emptyTable() {
        let table = NameTable(expectedCount: 0)
        #expect(key("x").withUnsafeBytes { table.find($0) } == nil)
    }
}
