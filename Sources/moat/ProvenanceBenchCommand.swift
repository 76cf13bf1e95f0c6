import ArgumentParser
import Foundation
import MoatProvenance

/// `moat provenance bench`: the cost of marking a stream, per delta and per byte, against an anchor
/// measured in the same run (forwarding the same deltas unchanged: decode, copy, re-encode).
struct ProvenanceBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark FingerprintStream on texts cut into SSE-sized deltas (release build).",
        shouldDisplay: false
    )

    @Argument(help: "Texts (JSON Lines or plain text).")
    var file: String

    @Option(name: .customLong("delta-bytes"), help: "Bytes per delta (cut at character boundaries).")
    var deltaBytes = 16

    @Option(help: "Passes over the texts.")
    var rounds = 5

    func run() throws {
        let (texts, _, _) = try ProvenanceTexts.read(file)
        let deltas: [[String]] = texts.map { t in
            var out: [String] = []
            var current = ""
            var bytes = 0
            for ch in t.text {
                current.append(ch)
                bytes += ch.utf8.count
                if bytes >= deltaBytes {
                    out.append(current)
                    current = ""
                    bytes = 0
                }
            }
            if !current.isEmpty { out.append(current) }
            return out
        }
        let prompts = texts.map { FingerprintPrompt($0.prompt) }
        let totalBytes = texts.reduce(0) { $0 + $1.text.utf8.count } * rounds
        let totalDeltas = deltas.reduce(0) { $0 + $1.count } * rounds
        let marker = Fingerprinter(key: try FingerprintMasterKey(bytes: Array(repeating: 7, count: 32)).campaignKey("bench"))

        // Anchor: what a gateway does with a delta anyway (take its bytes, append them to the outgoing buffer).
        var sink = 0
        let anchor = Self.time {
            for _ in 0..<rounds {
                for d in deltas {
                    var out: [UInt8] = []
                    for piece in d { out.append(contentsOf: piece.utf8) }
                    sink &+= out.count
                }
            }
        }
        var units = 0
        let prompt = Self.time {
            for _ in 0..<rounds { for t in texts { units &+= FingerprintPrompt(t.prompt).frozenClasses } }
        }
        let stream = Self.time {
            for _ in 0..<rounds {
                for (d, p) in zip(deltas, prompts) {
                    var s = marker.stream(prompt: p)
                    var out: [UInt8] = []
                    for piece in d { s.feed(utf8: piece.utf8, into: &out) }
                    s.finish(into: &out)
                    sink &+= out.count
                    units &+= s.stats.units
                }
            }
        }
        let strings = Self.time {
            for _ in 0..<rounds {
                for (d, p) in zip(deltas, prompts) {
                    var s = marker.stream(prompt: p)
                    for piece in d { sink &+= s.feed(piece).utf8.count }
                    sink &+= s.finish().utf8.count
                }
            }
        }
        func row(_ name: String, _ seconds: Double) -> String {
            let ns = seconds * 1e9
            return name.padding(toLength: 34, withPad: " ", startingAt: 0)
                + String(format: "%9.1f MB/s %9.2f ns/byte %9.0f ns/delta %8.1fx", Double(totalBytes) / seconds / 1e6,
                         ns / Double(totalBytes), ns / Double(totalDeltas), seconds / anchor)
        }
        print("\(texts.count) texts, \(totalBytes / rounds) bytes, \(totalDeltas / rounds) deltas of ~\(deltaBytes) bytes, \(rounds) rounds (sink \(sink % 10), units \(units / rounds / 2))")
        print("                                       throughput        per byte         per delta   vs anchor")
        print(row("anchor: forward deltas unchanged", anchor))
        print(row("FingerprintPrompt of each prompt", prompt))
        print(row("FingerprintStream, bytes API", stream))
        print(row("FingerprintStream, String API", strings))
    }

    static func time(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
