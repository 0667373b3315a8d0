// Makes Swift's `Synchronization.Mutex` on Linux visible to ThreadSanitizer, so that
// `scripts/sanitize thread` needs no suppression for it (docs/sanitizers.md).
//
// Why: `Mutex.withLock` is inlined into the caller, and so is its fast path: one
// compare-and-swap with acquire ordering to lock, one with release ordering to unlock.
// Those are in our instrumented code, and ThreadSanitizer sees them. When the lock is
// contended, the work goes to `_MutexHandle._lockSlow` (spinning with compare-and-swap,
// then FUTEX_LOCK_PI) and `_unlockSlow` (FUTEX_UNLOCK_PI), which live in the toolchain's
// uninstrumented libswiftSynchronization.so. ThreadSanitizer then sees neither the
// acquisition nor the hand-over, and reports the two critical sections as a data race.
//
// A suppression cannot tell that case from a real race: the slow path has returned before
// the racing accesses, so it is on neither of their stacks. Instead, this library, loaded
// with LD_PRELOAD into the tests and every process they start, interposes the two slow paths
// (and the try-lock's) and tells ThreadSanitizer what they did: an acquire on the mutex's
// address after the lock is taken, a release on it before it is handed over. Those are the
// same address and the same orderings as the inlined fast path's atomics, so every way
// through the mutex is one happens-before edge, as for a pthread mutex. A critical section
// and an access outside the lock are still reported.
//
// The symbols are the Swift 6 ABI's (`swiftcc`, the mutex's address in the self register),
// stable since the Synchronization module shipped. In a process without ThreadSanitizer (dig,
// swift-test itself) the annotations are absent and the wrappers only forward.

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SWIFTCALL __attribute__((swiftcall))
#define SWIFT_SELF __attribute__((swift_context))

#define LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define TRY_LOCK_SLOW "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF"
#define UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"

// ThreadSanitizer's annotation interface; null when the process has no ThreadSanitizer.
extern void __tsan_acquire(void *address) __attribute__((weak));
extern void __tsan_release(void *address) __attribute__((weak));

typedef SWIFTCALL void (*LockSlow)(uint32_t threadID, SWIFT_SELF void *handle);
typedef SWIFTCALL bool (*TryLockSlow)(SWIFT_SELF void *handle);
typedef SWIFTCALL void (*UnlockSlow)(SWIFT_SELF void *handle);

// The next definition of `name` (libswiftSynchronization.so's), looked up once.
static void *next(void **cache, const char *name) {
    void *function = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
    if (function) return function;
    function = dlsym(RTLD_NEXT, name);
    if (!function) {
        fprintf(stderr, "tsan-mutex: %s not found: %s\n", name, dlerror());
        abort();
    }
    __atomic_store_n(cache, function, __ATOMIC_RELEASE);
    return function;
}

SWIFTCALL void lockSlow(uint32_t threadID, SWIFT_SELF void *handle) __asm__(LOCK_SLOW);
SWIFTCALL bool tryLockSlow(SWIFT_SELF void *handle) __asm__(TRY_LOCK_SLOW);
SWIFTCALL void unlockSlow(SWIFT_SELF void *handle) __asm__(UNLOCK_SLOW);

SWIFTCALL void lockSlow(uint32_t threadID, SWIFT_SELF void *handle) {
    static void *cache;
    ((LockSlow)next(&cache, LOCK_SLOW))(threadID, handle);
    if (__tsan_acquire) __tsan_acquire(handle);
}

SWIFTCALL bool tryLockSlow(SWIFT_SELF void *handle) {
    static void *cache;
    bool locked = ((TryLockSlow)next(&cache, TRY_LOCK_SLOW))(handle);
    if (locked && __tsan_acquire) __tsan_acquire(handle);
    return locked;
}

SWIFTCALL void unlockSlow(SWIFT_SELF void *handle) {
    static void *cache;
    if (__tsan_release) __tsan_release(handle);
    ((UnlockSlow)next(&cache, UNLOCK_SLOW))(handle);
}
