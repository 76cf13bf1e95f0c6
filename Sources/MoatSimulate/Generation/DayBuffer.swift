import MoatCore
/// The exchanges of one simulated day, serialized, waiting to be written in log order.
///
/// Lines are kept in one byte arena. At the end of the day they are sorted by the time they reach
/// the merged log (their own time plus a replica's lag), written, and those that belong to the
/// next day's log are carried over. Memory is bounded by one day of traffic, never the whole log.
struct DayBuffer {
    struct Entry {
        var logTime: Int64
        var ts: Int64
        var sequence: Int
        var offset: Int
        var length: Int
    }

    private(set) var arena: [UInt8] = []
    private(set) var entries: [Entry] = []
    private var sequence = 0

    var count: Int { entries.count }

    mutating func append(_ line: [UInt8], ts: Int64, logTime: Int64) {
        entries.append(Entry(logTime: logTime, ts: ts, sequence: sequence, offset: arena.count, length: line.count))
        arena.append(contentsOf: line)
        sequence += 1
    }

    /// Writes every line whose log time is before `cutoff`, in log order, and keeps the rest.
    /// Returns the number of lines written.
    mutating func flush(before cutoff: Int64, to sink: (ArraySlice<UInt8>) -> Void) -> Int {
        entries.sort { ($0.logTime, $0.sequence) < ($1.logTime, $1.sequence) }
        var kept = DayBuffer()
        var written = 0
        var chunk: [UInt8] = []
        chunk.reserveCapacity(1 << 20)
        for e in entries {
            let line = arena[e.offset..<(e.offset + e.length)]
            if e.logTime < cutoff {
                chunk.append(contentsOf: line)
                chunk.append(10)
                written += 1
                if chunk.count >= 1 << 20 {
                    sink(chunk[...])
                    chunk.removeAll(keepingCapacity: true)
                }
            } else {
                kept.append(Array(line), ts: e.ts, logTime: e.logTime)
            }
        }
        if !chunk.isEmpty { sink(chunk[...]) }
        self = kept
        return written
    }
}
