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

    @Test("An empty table finds nothing")
    func emptyTable() {
        let table = NameTable(expectedCount: 0)
        #expect(key("x").withUnsafeBytes { table.find($0) } == nil)
    }
}
