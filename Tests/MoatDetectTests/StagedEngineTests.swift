import Foundation
import MoatCore
@testable import MoatDetect
import Testing

/// The staged engine (issue 14) in one process: stage 1 over partitions by account, stage 2's order, stage 3.
@Suite struct StagedEngineTests {
    let fixture = ScenarioFixture.shared

    func exchanges() throws -> [Exchange] {
        let reader = try ExchangeReader(path: fixture.exchangesPath)
        var out: [Exchange] = []
        while let e = try reader.next() { out.append(e) }
        return out
    }

    /// Stage 1 over `partitions` partitions by account hash (each in the given order), stage 2's sort, stage 3.
    func staged(_ exchanges: [Exchange], partitions: Int) throws -> Report {
        let config = DetectionConfig()
        var parts = [[Exchange]](repeating: [], count: partitions)
        for e in exchanges { parts[Int(StableHash.of(e.accountID, seed: 99) % UInt64(partitions))].append(e) }
        var exchangeLines: [ArraySlice<UInt8>] = []
        var side: [ArraySlice<UInt8>] = []
        for part in parts {
            var writer = Stage1.Writer(config: config)
            var bytes: [UInt8] = []
            for e in part { writer.add(e) { bytes += $0 } }
            writer.finish(invalidLines: 0, firstError: nil) { bytes += $0 }
            for line in bytes.split(separator: 10) {
                if line.first == UInt8(ascii: "E") { exchangeLines.append(line) } else { side.append(line) }
            }
        }
        exchangeLines.sort(by: Stage2.less)
        var stage3 = Stage3(config: config, accounts: fixture.accounts)
        for line in side { try stage3.addSideLine(line) }
        for line in exchangeLines { try stage3.addExchangeLine(line) }
        return stage3.report()
    }

    @Test func stagedLinesReadBackToTheSameDigest() throws {
        var book = SignatureBook(capacity: 0)
        for e in try exchanges().prefix(2_000) {
            let d = ExchangeDigest(e, hashes: DetectionConfig().familyHashes, book: &book)
            var bytes: [UInt8] = []
            StagedRow.encode(d, inlineSignature: true, into: &bytes)
            #expect(bytes.last == 10)
            guard case .exchange(let back) = try StagedRow.decode(bytes.dropLast()) else {
                Issue.record("not an exchange line")
                continue
            }
            #expect(back == d)
        }
    }

    @Test func stagedLinesEscapeTabsNewlinesAndTellMissingFromEmpty() throws {
        var e = try #require(try exchanges().first)
        e.client.userAgent = ""
        e.client.tlsFingerprint = "a\tb\nc\\N"
        e.prompt = "line one\r\nline\ttwo \\ end"
        e.systemPrompt = nil
        let d = ExchangeDigest(e, hashes: 64)
        var bytes: [UInt8] = []
        StagedRow.encode(d, inlineSignature: false, into: &bytes)
        #expect(bytes.filter { $0 == 10 }.count == 1)
        guard case .exchange(let back) = try StagedRow.decode(bytes.dropLast()) else { Issue.record("not an exchange line"); return }
        #expect(back == d)
        #expect(back.exchange.client.userAgent == "")
        #expect(back.exchange.systemPrompt == nil)
    }

    @Test func digestLabelCutEqualsCuttingByCharacters() {
        let n = ExchangeDigest.labelCharacters
        let a = String(repeating: "a", count: n - 1)
        let cases = [
            String(repeating: "x", count: n + 40),     // ASCII: cut by bytes
            a + "\r\nmore text after the break",        // CR LF is one character
            a + "b\u{301} and more",                   // a combining mark joins the 80th character
            a + "bc\u{301}",                           // ... and one after the cut
            String(repeating: "é", count: n + 5),      // two bytes each
            String(repeating: "👩‍💻", count: n),         // a grapheme of several scalars
            a + "b",                                   // exactly the limit
        ]
        for s in cases {
            #expect(ExchangeDigest.cut(s) == String(s.prefix(n)), "\(s.debugDescription)")
        }
    }

    @Test func batchIngestGivesTheSameReportAsOneDigestAtATime() throws {
        let config = DetectionConfig()
        var one = DetectionEngine(config: config, accounts: fixture.accounts)
        var batched = DetectionEngine(config: config, accounts: fixture.accounts)
        var batch = DigestBatch(capacity: 333)
        var book = SignatureBook(capacity: 1_000)
        var changesOne = 0
        var changesBatched = 0
        for e in try exchanges() {
            changesOne += one.ingest(ExchangeDigest(e, hashes: config.familyHashes)).count
            batch.append(ExchangeDigest(e, hashes: config.familyHashes, book: &book))
            if batch.isFull {
                changesBatched += batched.ingest(batch).count
                batch = DigestBatch(capacity: 333)
            }
        }
        changesBatched += batched.ingest(batch).count
        changesOne += one.flush().count
        changesBatched += batched.flush().count
        #expect(changesOne == changesBatched)
        #expect(one.report() == batched.report())
        #expect(batched.report() == fixture.report)
    }

    @Test func stagedReportEqualsReplayForAnyPartitioningAndOrder() throws {
        let all = try exchanges()
        for k in [1, 2, 4, 7] {
            #expect(try staged(all, partitions: k) == fixture.report, "partitions: \(k)")
        }
        var rng = SystemRandomNumberGenerator()
        #expect(try staged(all.shuffled(using: &rng), partitions: 3) == fixture.report, "shuffled")
    }

    @Test func stagedRunFailsWithoutTheSignatureDictionary() throws {
        let e = try #require(try exchanges().first { ($0.systemPrompt ?? "").count > 20 })
        var writer = Stage1.Writer(config: DetectionConfig())
        var bytes: [UInt8] = []
        writer.add(e) { bytes += $0 }
        writer.finish(invalidLines: 0, firstError: nil) { bytes += $0 }
        let line = try #require(bytes.split(separator: 10).first { $0.first == UInt8(ascii: "E") })
        var stage3 = Stage3(config: DetectionConfig(), accounts: [])
        #expect(throws: StagedRowError.self) { try stage3.addExchangeLine(line) }
    }
}
