/// A value that carries its own identifier: the key it is stored under in an ``IdentifierMap``.
public protocol IdentifiedValue: Sendable {
    var id: Identifier { get }
}

/// A hash map from ``Identifier`` to values that carry their identifier, built for the
/// workspace state's 100,000-entry bulk loads and lookups.
///
/// Swift's `Dictionary` hashes every key with SipHash and keeps keys apart from values; at
/// this size its lookups are cache misses plus hashing. Here:
/// - the values live densely in one array, in insertion order (a removal moves the last value
///   into the hole), and each value holds its key, so a lookup that found its slot reads one
///   more place in memory;
/// - the index is open addressing with linear probing over 64-bit slots: 32 bits of the key's
///   hash (a tag) and the value's position, so probing past other keys reads only the slots;
///   removal shifts the following slots back, so there are no tombstones;
/// - UUIDs are random already: the hash is one multiply of the mixed halves with a seed chosen
///   per process (a file crafted to collide in one process does not collide in the next).
///
/// A value type with copy-on-write arrays, like `Dictionary`: a copy shares storage until
/// either side changes.
///
/// Everything is `@inlinable`: the map is generic and used from other modules (the control
/// plane applies updates to it), where an unspecialized call would look up generic metadata
/// and call through witness tables for every probe.
public struct IdentifierMap<Value: IdentifiedValue>: Sendable {
    /// The values, densely, in insertion order except that a removal moves the last one.
    @usableFromInline var storage: [Value] = []
    /// 0: empty; otherwise the hash's high 32 bits << 32 | (position in `values` + 1).
    @usableFromInline var slots: [UInt64]
    @usableFromInline var mask: Int

    /// The values, densely, in insertion order except that a removal moves the last one.
    @inlinable public var values: [Value] { storage }

    @usableFromInline static var tagMask: UInt64 { 0xFFFF_FFFF_0000_0000 }
    @usableFromInline static var minimumSlots: Int { 8 }

    @inlinable public init() {
        slots = Array(repeating: 0, count: Self.minimumSlots)
        mask = Self.minimumSlots - 1
    }

    @inlinable public init(minimumCapacity: Int) {
        self.init()
        reserveCapacity(minimumCapacity)
    }

    @inlinable public var count: Int { storage.count }
    /// The identifiers, in the order of ``values``.
    @inlinable public var keys: LazyMapSequence<[Value], Identifier> { storage.lazy.map(\.id) }
    @inlinable public var isEmpty: Bool { storage.isEmpty }

    /// The number of slots for `count` values: at most four fifths full (the tags keep the
    /// longer probe runs inside the slot array: eight slots to a cache line).
    @inlinable static func slotCount(for count: Int) -> Int {
        var size = minimumSlots
        while size * 4 < count * 5 { size <<= 1 }
        return size
    }

    /// The capacity to give a map loaded with `count` values that diffs will then change: an
    /// eighth more, so that the workspaces a diff adds are appended in place rather than by
    /// copying every value to a larger array (room not written to is not resident).
    @inlinable public static func capacityWithRoom(for count: Int) -> Int { count + count / 8 + 16 }

    @inlinable public mutating func reserveCapacity(_ minimumCapacity: Int) {
        storage.reserveCapacity(minimumCapacity)
        let size = Self.slotCount(for: minimumCapacity)
        if size > slots.count { rehash(size: size) }
    }

    /// Process-wide: every map hashes alike, so maps can be compared and copied cheaply.
    @usableFromInline static var seed: UInt64 { IdentifierHashSeed.value }

    @inlinable @inline(__always)
    static func hash(_ id: Identifier) -> UInt64 {
        let mixed = (id.high ^ seed) &* 0x9E37_79B9_7F4A_7C15 ^ id.low
        let product = mixed &* 0xD6E8_FEB8_6659_FD93
        return product ^ (product >> 32)
    }

    /// The slot holding `id`, or nil.
    @inlinable @inline(__always) func findSlot(_ id: Identifier, hash: UInt64) -> Int? {
        let tag = hash & Self.tagMask
        var slot = Int(truncatingIfNeeded: hash) & mask
        return slots.withUnsafeBufferPointer { slots in
            storage.withUnsafeBufferPointer { storage in
                while true {
                    let entry = slots[slot]
                    if entry == 0 { return nil }
                    if entry & Self.tagMask == tag {
                        let position = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                        if storage[position].id == id { return slot }
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    @inlinable @inline(__always) func position(ofSlot slot: Int) -> Int {
        Int(truncatingIfNeeded: slots[slot] & 0xFFFF_FFFF) - 1
    }

    /// Where the value stored for `id` is in ``values``, or nil.
    @inlinable public func position(ofKey id: Identifier) -> Int? {
        findSlot(id, hash: Self.hash(id)).map { position(ofSlot: $0) }
    }

    @inlinable public func contains(_ id: Identifier) -> Bool {
        findSlot(id, hash: Self.hash(id)) != nil
    }

    /// Reading gives the value stored for `id`; writing a value stores it (its `id` must be
    /// `id`), writing nil removes it.
    @inlinable public subscript(id: Identifier) -> Value? {
        get {
            guard let slot = findSlot(id, hash: Self.hash(id)) else { return nil }
            return storage[position(ofSlot: slot)]
        }
        set {
            if let newValue {
                precondition(newValue.id == id, "IdentifierMap: a value stored under another identifier")
                updateValue(newValue)
            } else {
                removeValue(forKey: id)
            }
        }
    }

    /// Stores `value` under its own identifier; returns the value it replaced, if any.
    @inlinable @discardableResult
    public mutating func updateValue(_ value: Value) -> Value? {
        let hash = Self.hash(value.id)
        if let slot = findSlot(value.id, hash: hash) {
            let position = position(ofSlot: slot)
            let old = storage[position]
            storage[position] = value
            return old
        }
        if (storage.count + 1) * 5 > slots.count * 4 { rehash(size: slots.count * 2) }
        storage.append(value)
        place(hash: hash, position: storage.count - 1)
        return nil
    }

    /// Dictionary's spelling; `key` must be `value.id`.
    @inlinable @discardableResult
    public mutating func updateValue(_ value: Value, forKey key: Identifier) -> Value? {
        precondition(value.id == key, "IdentifierMap: a value stored under another identifier")
        return updateValue(value)
    }

    /// Removes the value stored for `key`; returns it, or nil if there was none.
    @inlinable @discardableResult
    public mutating func removeValue(forKey key: Identifier) -> Value? {
        guard let slot = findSlot(key, hash: Self.hash(key)) else { return nil }
        let position = position(ofSlot: slot)
        removeSlot(slot)
        let last = storage.count - 1
        if position != last {
            // The last value moves into the hole: repoint its slot.
            let moved = storage[last]
            let movedSlot = findSlot(moved.id, hash: Self.hash(moved.id))!
            slots[movedSlot] = slots[movedSlot] & Self.tagMask | UInt64(position + 1)
            storage.swapAt(position, last)
        }
        return storage.removeLast()
    }

    /// Removes every value for which `shouldBeRemoved` is true.
    @inlinable public mutating func removeAll(where shouldBeRemoved: (Value) throws -> Bool) rethrows {
        let kept = try storage.filter { try !shouldBeRemoved($0) }
        guard kept.count != storage.count else { return }
        self = IdentifierMap(kept)
    }

    /// The values for which `isIncluded` is true.
    @inlinable public func filter(_ isIncluded: (Value) throws -> Bool) rethrows -> IdentifierMap {
        try IdentifierMap(storage.filter(isIncluded))
    }

    /// From values with distinct identifiers (a later value replaces an earlier one with the
    /// same identifier).
    @inlinable public init(_ values: some Sequence<Value>) {
        self.init(minimumCapacity: values.underestimatedCount)
        for value in values { updateValue(value) }
    }

    /// From values with distinct identifiers, taking `values` as the storage: one pass that
    /// only places slots, cheaper than inserting one by one. Nil if two values share an
    /// identifier; `duplicate` then names it.
    @inlinable public init?(distinct values: [Value], duplicate: inout Identifier?) {
        storage = values
        let size = Self.slotCount(for: values.count)
        slots = Array(repeating: 0, count: size)
        mask = size - 1
        let found: Identifier? = slots.withUnsafeMutableBufferPointer { slots in
            storage.withUnsafeBufferPointer { storage in
                for position in storage.indices {
                    let id = storage[position].id
                    let hash = Self.hash(id)
                    let tag = hash & Self.tagMask
                    var slot = Int(truncatingIfNeeded: hash) & mask
                    while slots[slot] != 0 {
                        if slots[slot] & Self.tagMask == tag && storage[Int(truncatingIfNeeded: slots[slot] & 0xFFFF_FFFF) - 1].id == id {
                            return id
                        }
                        slot = (slot + 1) & mask
                    }
                    slots[slot] = tag | UInt64(position + 1)
                }
                return nil
            }
        }
        if let found {
            duplicate = found
            return nil
        }
    }

    /// Empties slot `slot`, shifting back the slots after it that would otherwise be cut off
    /// from their home slot (linear probing's deletion without tombstones).
    @inlinable mutating func removeSlot(_ slot: Int) {
        var hole = slot
        var next = (slot + 1) & mask
        while slots[next] != 0 {
            let home = Int(truncatingIfNeeded: Self.hash(storage[position(ofSlot: next)].id)) & mask
            // Move `next` into the hole unless its home lies cyclically in (hole, next].
            let distanceToNext = (next - home) & mask
            let distanceToHole = (hole - home) & mask
            if distanceToHole < distanceToNext {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = 0
    }

    @inlinable @inline(__always) mutating func place(hash: UInt64, position: Int) {
        var slot = Int(truncatingIfNeeded: hash) & mask
        slots.withUnsafeMutableBufferPointer { slots in
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = hash & Self.tagMask | UInt64(position + 1)
        }
    }

    @inlinable mutating func rehash(size: Int) {
        slots = Array(repeating: 0, count: size)
        mask = size - 1
        for position in storage.indices {
            place(hash: Self.hash(storage[position].id), position: position)
        }
    }
}

/// The per-process hash seed of ``IdentifierMap``.
@usableFromInline enum IdentifierHashSeed {
    @usableFromInline static let value = UInt64.random(in: 0...UInt64.max)
}

extension IdentifierMap: Equatable where Value: Equatable {
    /// The same identifiers with equal values, whatever the order.
    @inlinable public static func == (lhs: IdentifierMap, rhs: IdentifierMap) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.values.allSatisfy { rhs[$0.id] == $0 }
    }
}

extension IdentifierMap: ExpressibleByDictionaryLiteral {
    /// `[id: value, ...]`, each value's `id` being its key.
    @inlinable public init(dictionaryLiteral elements: (Identifier, Value)...) {
        self.init(minimumCapacity: elements.count)
        for (key, value) in elements { updateValue(value, forKey: key) }
    }
}

extension IdentifierMap: Sequence {
    /// The values, in storage order.
    @inlinable public func makeIterator() -> IndexingIterator<[Value]> { storage.makeIterator() }
    @inlinable public var underestimatedCount: Int { storage.count }
}
