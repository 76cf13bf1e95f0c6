import MoatCore

/// Holds exchanges for a bounded window so that a roughly ordered log is replayed in exact time order.
///
/// An exchange is released once the newest time seen is more than `window` past it. One that arrives
/// after its moment was released is processed at once and counted as late.
struct ReorderBuffer {
    private var heap: [(ts: Int64, seq: Int, exchange: Exchange)] = []
    private var sequence = 0
    let window: Int64
    private(set) var watermark: Int64 = .min

    init(windowMilliseconds: Int64) { window = windowMilliseconds }

    var count: Int { heap.count }

    mutating func push(_ e: Exchange) {
        heap.append((e.ts.milliseconds, sequence, e))
        sequence += 1
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(i, parent) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
        watermark = max(watermark, e.ts.milliseconds)
    }

    /// The next exchange whose time is at least `window` older than the newest seen (or any, when draining).
    mutating func pop(draining: Bool) -> Exchange? {
        guard let top = heap.first, draining || top.ts <= watermark - window else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count, less(l, m) { m = l }
                if r < heap.count, less(r, m) { m = r }
                if m == i { break }
                heap.swapAt(i, m)
                i = m
            }
        }
        return top.exchange
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        heap[a].ts != heap[b].ts ? heap[a].ts < heap[b].ts : heap[a].seq < heap[b].seq
    }
}
