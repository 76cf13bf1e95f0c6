// moat-lab: a development tool for detection work. Replays a simulated scenario directory through the
// engine with optional setting overrides, scores it, and shows what the metrics hide: the score
// distribution of every group of accounts (benign look-alikes by their id prefix, campaigns by label),
// and why each false positive was flagged.
//
//   moat-lab DIR [--set name=value]... [--out REPORT] [--quiet] [--no-eval]
//     (--no-eval: detection alone, for timing and peak memory; MOAT_LAB_READ_ONLY=1: only parse and digest the
//     log, the reading thread's share of the work)
//   moat-lab simulate DIR SCENARIO SEED [BANK] [KINDS] [SCALE]
//
// It is not part of the product: it reads the simulator's id prefixes, which real logs do not have.
import Foundation
import MoatCore
import MoatDetect
import MoatEvaluate
import MoatSimulate

var args = Array(CommandLine.arguments.dropFirst())
if args.first == "simulate", args.count >= 4 {
    var p = ScenarioParameters.named(args[2], scale: args.count > 6 ? Double(args[6]) ?? 1 : 1)!
    if args.count > 4 { p.phraseBank = args[4] }
    if args.count > 5, args[5] != "all" { p.keepCampaigns(Set(args[5].split(separator: ",").map(String.init))) }
    let corpus = try Corpus.load(directory: Corpus.defaultDirectory(),
                                 limits: CorpusLimits(promptChars: p.promptChars, responseChars: p.responseChars))
    let t0 = Date()
    let summary = try Simulator(parameters: p, seed: UInt64(args[3])!, corpus: corpus).run(to: args[1])
    print(String(format: "simulated %d exchanges, %d accounts (%d in campaigns) in %.1f s", summary.exchanges,
                 summary.accounts, summary.campaignAccounts, Date().timeIntervalSince(t0)))
    exit(0)
}
guard let dir = args.first else {
    FileHandle.standardError.write(Data("usage: moat-lab DIR [--set name=value]... [--out REPORT] [--quiet] [--no-eval]\n".utf8))
    exit(2)
}
args.removeFirst()
var config = DetectionConfig()
var out = dir + "/report-lab.json"
var quiet = false
var evaluate = true
while !args.isEmpty {
    let a = args.removeFirst()
    switch a {
    case "--set":
        do { try config.set(args.removeFirst()) } catch { print("error: \(error)"); exit(2) }
    case "--out": out = args.removeFirst()
    case "--quiet": quiet = true
    case "--no-eval": evaluate = false
    default: print("unknown argument \(a)"); exit(2)
    }
}

let started = Date()
if ProcessInfo.processInfo.environment["MOAT_LAB_READ_ONLY"] != nil {
    // The reading side alone (parse and digest, stage 1), for the split of CPU between the two threads.
    let reader = try ExchangeReader(path: dir + "/exchanges.jsonl")
    var book = SignatureBook(capacity: 200_000)
    var n = 0
    while let e = try reader.next() { _ = ExchangeDigest(e, hashes: config.familyHashes, book: &book); n += 1 }
    print(String(format: "read and digested %d exchanges in %.1f s", n, Date().timeIntervalSince(started)))
    exit(0)
}
let accounts = try readAccounts(path: dir + "/accounts.jsonl")
let labels = try readLabels(path: dir + "/labels.jsonl")
let engine = try Replay.engine(try ExchangeReader(path: dir + "/exchanges.jsonl"), accounts: accounts, config: config)
let report = engine.report()
let seconds = Date().timeIntervalSince(started)
let encoder = JSONEncoder()
encoder.outputFormatting = [.sortedKeys]
try encoder.encode(report).write(to: URL(fileURLWithPath: out))
if !evaluate {
    print(String(format: "detect %.1f s (no evaluation)", seconds))
    exit(0)
}
let (e, _) = try EvaluationFiles.evaluate(labelsPath: dir + "/labels.jsonl", reportPath: out, exchangesPath: dir + "/exchanges.jsonl")

func p(_ x: Double?) -> String { x.map { String(format: "%.2f%%", $0 * 100) } ?? "-" }
let o = e.overall
print(String(format: "detect %.1f s | recall %@ | FPR %@ (%d of %d) | leakage %@ | campaigns reported %d",
             seconds, p(o.accountRecall), p(o.benignFalsePositiveRate), o.flaggedBenignAccounts, o.benignAccounts,
             p(o.leakage), o.reportedCampaigns))
for c in e.campaigns {
    print(String(format: "  %-15@ n=%4d recall %7@ compl %7@ purity %7@ ttd %@ h  leak %@  -> %@",
                 c.campaign as NSString, c.accounts, p(c.recall) as NSString, p(c.completeness) as NSString,
                 p(c.purity) as NSString, c.timeToDetectHours.map { String(format: "%.1f", $0) } ?? "-",
                 p(c.leakage), c.matchedCampaign ?? "-"))
}

// Score distribution per group.
let labelOf = Dictionary(labels.map { ($0.accountID, $0.campaign) }, uniquingKeysWith: { a, _ in a })
let prefixes = ["u": "individual", "s": "saas", "e": "eval-harness", "a": "agentic", "k": "classroom", "g": "enterprise"]
var groups: [String: [Double]] = [:]
for s in engine.accountScores() where s.exchanges > 0 {
    let g = labelOf[s.accountID] ?? prefixes[String(s.accountID.prefix(1))] ?? "other"
    groups[g, default: []].append(s.score)
}
for id in (ProcessInfo.processInfo.environment["MOAT_LAB_TRACE"] ?? "").split(separator: ",") {
    print(engine.inspect(accountID: String(id)))
}
if !quiet {
    print("\n  group            n    p10   p50   p90   max  >=0.5  >=0.65")
    for (g, v) in groups.sorted(by: { $0.key < $1.key }) {
        let s = v.sorted()
        func q(_ f: Double) -> Double { s[min(s.count - 1, Int(Double(s.count) * f))] }
        print(String(format: "  %-14@ %5d  %.2f  %.2f  %.2f  %.2f  %5d  %5d", g as NSString, s.count, q(0.1), q(0.5), q(0.9),
                     s.last ?? 0, s.filter { $0 >= 0.5 }.count, s.filter { $0 >= 0.65 }.count))
    }
    // Mean score components per group.
    var sums: [String: [String: Double]] = [:]
    var counts: [String: Int] = [:]
    for s in engine.accountScores() where s.exchanges > 0 {
        let g = labelOf[s.accountID] ?? prefixes[String(s.accountID.prefix(1))] ?? "other"
        counts[g, default: 0] += 1
        for (name, v) in engine.scoreComponents(accountID: s.accountID) { sums[g, default: [:]][name, default: 0] += v }
    }
    let names = engine.scoreComponents(accountID: engine.accountScores()[0].accountID).map(\.0)
    print("\n  mean components: " + names.map { String($0.prefix(6)) }.joined(separator: " "))
    for g in sums.keys.sorted() {
        let n = Double(counts[g] ?? 1)
        print("  " + g.padding(toLength: 15, withPad: " ", startingAt: 0)
              + names.map { String(format: "%6.2f", (sums[g]?[$0] ?? 0) / n) }.joined(separator: " "))
    }
    // What drives the highest benign scores.
    var top: [(String, Double)] = []
    for s in engine.accountScores() where labelOf[s.accountID] == nil { top.append((s.accountID, s.score)) }
    top.sort { $0.1 > $1.1 }
    print("\n  highest benign scores:")
    for (id, score) in top.prefix(8) {
        let parts = engine.scoreComponents(accountID: id).filter { $0.1 != 0 }.map { "\($0.0)=\(String(format: "%.2f", $0.1))" }
        print("   \(id) \(String(format: "%.2f", score)): \(parts.joined(separator: " "))")
    }
    let fp = e.falsePositives
    if !fp.isEmpty {
        print("\n  false positives:")
        for f in fp.prefix(15) {
            print("   \(f.accountID) \(f.verdict) \(f.campaign ?? "-") score \(f.score): \(f.reasons.prefix(2).joined(separator: " | "))")
        }
    }
    for c in report.campaigns {
        print("\n  \(c.id) (\(c.accounts.count) accounts, operator \(c.operatorID ?? "-"), related \(c.relatedCampaigns ?? []))")
        for line in c.evidence { print("    - \(line)") }
    }
}
