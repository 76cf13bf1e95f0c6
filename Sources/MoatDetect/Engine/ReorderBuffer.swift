import MoatCore

/// Holds exchanges for a bounded window so that a roughly ordered log is replayed in exact time order.
///
/// An exchange is released once the newest time seen is more than `window` past it. One that arrives
/// after its moment was released is processed at once and counted as late. The heap orders small keys;
/// the exchanges themselves stay put in their batches, so reordering never copies them.
struct ReorderBuffer {
    /// Where an exchange waits: its batch and its place in it.
    struct Slot { var batch: DigestBatch; var index: Int32 }
    private struct Key { var ts: Int64; var seq: Int; var slot: Int32 }
    private var heap: [Key] = []
    private var slots: [Slot?] = []
    private var free: [Int32] = []
    private var sequence = 0
    let window: Int64
    private(set) var watermark: Int64 = .min

    init(windowMilliseconds: Int64) { window = windowMilliseconds }

    var count: Int { heap.count }

    mutating func push(_ batch: DigestBatch, _ index: Int) {
        let ts = batch[index].exchange.ts.milliseconds
        let entry = Slot(batch: batch, index: Int32(index))
        let slot: Int32
        if let reused = free.popLast() {
            slot = reused
            slots[Int(slot)] = entry
        } else {
            slot = Int32(slots.count)
            slots.append(entry)
        }
        heap.append(Key(ts: ts, seq: sequence, slot: slot))
        sequence += 1
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(heap[i], heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
        watermark = max(watermark, ts)
    }

    /// The next exchange whose time is at least `window` older than the newest seen (or any, when draining).
    mutating func pop(draining: Bool) -> Slot? {
        guard let top = heap.first, draining || top.ts <= watermark - window else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count, less(heap[l], heap[m]) { m = l }
                if r < heap.count, less(heap[r], heap[m]) { m = r }
                if m == i { break }
                heap.swapAt(i, m)
                i = m
            }
        }
        var out: Slot? = nil
        swap(&out, &slots[Int(top.slot)])
        free.append(top.slot)
        return out
    }

    @inline(__always) private func less(_ a: Key, _ b: Key) -> Bool {
        a.ts != b.ts ? a.ts < b.ts : a.seq < b.seq
    }
}
