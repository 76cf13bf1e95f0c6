import ArgumentParser
import Foundation
import MoatCore
import MoatIntel
import MoatTAXII

struct IntelMatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match",
        abstract: "Say which accounts match the peers' indicators held in the store.",
        discussion: """
            Runs the matcher over the accounts file and the exchange log: each match names the account, the \
            indicator, its source and TLP, the peer's confidence, what matched and when. Keyed hashes match \
            only with the trust group's key (--config). An indicator that matches more than 5% of the accounts \
            is reported as too broad and carries no weight.
            """
    )

    @OptionGroup var storeOptions: StoreOptions

    @OptionGroup var intel: IntelConfigOptions

    @Option(help: "Accounts file (JSON Lines).")
    var accounts: String?

    @Option(help: "Exchange log (JSON Lines, - for standard input).")
    var exchanges: String?

    @Flag(help: "Match outside the indicators' validity too (a retro hunt over old traffic).")
    var ignoreValidity = false

    @OptionGroup var asOf: AsOfOption

    @Flag(help: "Skip invalid lines instead of stopping.")
    var skipInvalid = false

    @Flag(help: "Print the matches as JSON Lines.")
    var json = false

    func validate() throws {
        if accounts == nil, exchanges == nil { throw ValidationError("give --accounts, --exchanges or both") }
    }

    func run() throws {
        let store = try storeOptions.open(create: false)
        let config = try intel.load()
        let now = asOf.nowMs
        let indicators = try IntelImport.load(from: store, nowMs: ignoreValidity ? nil : now)
        var matcher = IndicatorMatcher(indicators: indicators, keys: config?.keyRing ?? KeyRing(),
                                       config: MatchConfig(respectValidity: !ignoreValidity, asOf: Timestamp(milliseconds: now)))
        for (i, why) in matcher.unsupported { Console.error("not matched: \(i.id) (\(i.source)): \(why)") }
        let missing = matcher.missingKeys
        if !missing.isEmpty { Console.error("no key for key id(s) \(missing.sorted().joined(separator: ", ")): their keyed indicators cannot match") }
        do {
            if let accounts {
                for a in try readAccounts(path: accounts, skipInvalid: skipInvalid) { matcher.observe(account: a) }
            }
            if let exchanges {
                let reader = try ExchangeReader(path: exchanges, skipInvalid: skipInvalid, fields: matcher.needsText ? .all : .withoutText)
                while let e = try reader.next() { matcher.observe(exchange: e) }
            }
        } catch {
            throw ValidationFailure(message: "\(error)")
        }
        let matches = matcher.matches()
        if json {
            for m in matches {
                print(JSONValue.fields([
                    "account_id": .string(m.accountID), "indicator": .string(m.indicatorID), "version": .string(m.indicatorVersion),
                    "source": .string(m.source), "producer": m.producer.map(JSONValue.string), "tlp": m.tlp.map { .string($0.rawValue) },
                    "confidence": .int(m.confidence), "weight": .double(m.weight), "too_broad": .bool(m.tooBroad), "kind": .string(m.kind),
                    "first_matched_at": m.firstMatchedAt.map { .string($0.rfc3339) }, "exchanges": .int(m.exchanges),
                    "reason": .string(m.reason),
                ]).text)
            }
            return
        }
        // One line per account for people: what matched and the strongest evidence; --json has every match.
        var byAccount: [String: [IndicatorMatch]] = [:]
        for m in matches { byAccount[m.accountID, default: []].append(m) }
        let weighed = byAccount.filter { $0.value.contains { !$0.tooBroad } }
        print("\(indicators.count) indicator(s) held; \(matches.count) match(es); \(weighed.count) account(s) with weighed evidence"
              + (matches.contains(where: \.tooBroad) ? "; \(Set(matches.filter(\.tooBroad).map(\.indicatorID)).count) indicator(s) too broad here" : ""))
        guard !weighed.isEmpty else { return }
        print("")
        print("account               matches  strongest  first match               kinds")
        struct Row {
            var account: String
            var matches: Int
            var strongest: Double
            var first: Timestamp?
            var kinds: [String]
        }
        var rows: [Row] = []
        for (account, ms) in weighed {
            let strongest = ms.map(\.weight).max() ?? 0
            rows.append(Row(account: account, matches: ms.count, strongest: strongest, first: ms.compactMap(\.firstMatchedAt).min(),
                            kinds: Set(ms.map(\.kind)).sorted()))
        }
        rows.sort { $0.strongest != $1.strongest ? $0.strongest > $1.strongest : $0.account < $1.account }
        for r in rows.prefix(100) {
            let first = r.first?.rfc3339 ?? "-"
            var line = r.account.padding(toLength: 22, withPad: " ", startingAt: 0) + String(r.matches).leftPad(7)
            line += String(format: "%11.2f", r.strongest) + "  " + first.padding(toLength: 26, withPad: " ", startingAt: 0)
            print(line + r.kinds.joined(separator: ", "))
        }
        if rows.count > 100 { print("... \(rows.count - 100) more accounts (use --json)") }
    }
}
