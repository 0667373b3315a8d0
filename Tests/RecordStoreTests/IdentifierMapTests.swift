import RecordStore
import TestSupport
import Testing

/// A value for the map: an identifier and a payload that changes on update.
private struct Entry: IdentifiedValue, Equatable {
    var id: Identifier
    var payload: Int
}

@Suite("The identifier map")
struct IdentifierMapTests {
    private static func id(_ n: Int) -> Identifier { Identifier(high: UInt64(n) &* 0x1000_0001, low: UInt64(n)) }

    @Test func storesFindsReplacesAndRemoves() {
        var map = IdentifierMap<Entry>()
        #expect(map.isEmpty)
        #expect(map.updateValue(Entry(id: Self.id(1), payload: 10)) == nil)
        #expect(map.updateValue(Entry(id: Self.id(2), payload: 20)) == nil)
        #expect(map.updateValue(Entry(id: Self.id(1), payload: 11)) == Entry(id: Self.id(1), payload: 10))
        #expect(map.count == 2)
        #expect(map[Self.id(1)]?.payload == 11)
        #expect(map[Self.id(3)] == nil)
        #expect(map.removeValue(forKey: Self.id(1))?.payload == 11)
        #expect(map.removeValue(forKey: Self.id(1)) == nil)
        #expect(map.count == 1)
        #expect(!map.contains(Self.id(1)))
        #expect(map.contains(Self.id(2)))
        map[Self.id(2)] = nil
        #expect(map.isEmpty)
    }

    @Test func equalityIgnoresOrder() {
        let a: IdentifierMap<Entry> = [Self.id(1): Entry(id: Self.id(1), payload: 1), Self.id(2): Entry(id: Self.id(2), payload: 2)]
        let b: IdentifierMap<Entry> = [Self.id(2): Entry(id: Self.id(2), payload: 2), Self.id(1): Entry(id: Self.id(1), payload: 1)]
        let c: IdentifierMap<Entry> = [Self.id(2): Entry(id: Self.id(2), payload: 2), Self.id(1): Entry(id: Self.id(1), payload: 9)]
        #expect(a == b)
        #expect(a != c)
        #expect(a.values.map(\.payload) == [1, 2])
        #expect(b.values.map(\.payload) == [2, 1])
    }

    @Test func filterAndRemoveAllKeepTheRest() {
        let map = IdentifierMap((0..<100).map { Entry(id: Self.id($0), payload: $0) })
        let even = map.filter { $0.payload % 2 == 0 }
        #expect(even.count == 50)
        #expect(even[Self.id(4)]?.payload == 4)
        #expect(even[Self.id(5)] == nil)
        var odd = map
        odd.removeAll { $0.payload % 2 == 0 }
        #expect(odd.count == 50)
        #expect(odd[Self.id(5)]?.payload == 5)
        #expect(odd[Self.id(4)] == nil)
        // The copy was not changed by either.
        #expect(map.count == 100)
        #expect(map[Self.id(4)]?.payload == 4)
    }

    /// Thousands of random operations against `Dictionary` as the model, in maps small enough
    /// that probe chains collide and wrap around, so removal's back-shifting is exercised.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func behavesAsADictionaryUnderRandomOperations(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var map = IdentifierMap<Entry>()
        var model: [Identifier: Int] = [:]
        // Few distinct keys, so inserts, updates and removals all hit existing entries.
        let keyCount = seed.isMultiple(of: 2) ? 12 : 300
        for step in 0..<20_000 {
            let key = Self.id(Int.random(in: 0..<keyCount, using: &random))
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<5:
                let old = map.updateValue(Entry(id: key, payload: step))
                #expect(old?.payload == model.updateValue(step, forKey: key))
            case 5..<8:
                #expect(map.removeValue(forKey: key)?.payload == model.removeValue(forKey: key))
            default:
                #expect(map[key]?.payload == model[key])
            }
            if step % 1000 == 0 {
                #expect(map.count == model.count)
                for (key, payload) in model { #expect(map[key]?.payload == payload) }
            }
        }
        #expect(map.count == model.count)
        #expect(Set(map.keys) == Set(model.keys))
        for (key, payload) in model { #expect(map[key]?.payload == payload) }
    }

    @Test func indexingDistinctValuesInOnePassEqualsInsertingThem() throws {
        let values = (0..<5000).map { Entry(id: Self.id($0 * 7919), payload: $0) }
        var duplicate: Identifier?
        let bulk = try #require(IdentifierMap(distinct: values, duplicate: &duplicate))
        #expect(duplicate == nil)
        #expect(bulk == IdentifierMap(values))
        #expect(bulk.values == values)
        for value in values { #expect(bulk[value.id] == value) }
        #expect(bulk[Self.id(1)] == nil)
        // And it stays a working map afterwards.
        var changed = bulk
        changed.removeValue(forKey: values[10].id)
        #expect(changed[values[10].id] == nil && changed[values[11].id] == values[11])
    }

    @Test func indexingRefusesTwoValuesWithOneIdentifier() {
        var values = (0..<100).map { Entry(id: Self.id($0), payload: $0) }
        values.append(Entry(id: Self.id(42), payload: -1))
        var duplicate: Identifier?
        #expect(IdentifierMap(distinct: values, duplicate: &duplicate) == nil)
        #expect(duplicate == Self.id(42))
    }

    @Test func aCopyIsIndependent() {
        var original = IdentifierMap((0..<1000).map { Entry(id: Self.id($0), payload: $0) })
        var copy = original
        copy.removeValue(forKey: Self.id(7))
        copy.updateValue(Entry(id: Self.id(8), payload: -8))
        original.updateValue(Entry(id: Self.id(5000), payload: 5000))
        #expect(original[Self.id(7)]?.payload == 7)
        #expect(original[Self.id(8)]?.payload == 8)
        #expect(copy[Self.id(7)] == nil)
        #expect(copy[Self.id(8)]?.payload == -8)
        #expect(copy[Self.id(5000)] == nil)
        #expect(original.count == 1001)
        #expect(copy.count == 999)
    }
}
