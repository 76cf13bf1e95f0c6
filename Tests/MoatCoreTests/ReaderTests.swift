import Testing
@testable import MoatCore

@Suite struct LineReaderTests {
    func lines(of bytes: [UInt8], chunkSize: Int) throws -> [(Int, String)] {
        let path = try temporaryFile(bytes)
        defer { removeFile(path) }
        let reader = try LineReader(path: path, chunkSize: chunkSize)
        var out: [(Int, String)] = []
        while let l = try reader.nextLine() { out.append((reader.lineNumber, String(decoding: l, as: UTF8.self))) }
        #expect(reader.bytesRead == Int64(bytes.count))
        #expect(try reader.nextLine() == nil)
        return out
    }

    @Test func splitsLinesAtEveryChunkSize() throws {
        let text = "\u{FEFF}first\r\n\nsecond line é\nthird\r\n\r\n" + String(repeating: "x", count: 150) + "\nlast-no-newline"
        let expected = ["first", "", "second line é", "third", "", String(repeating: "x", count: 150), "last-no-newline"]
        for chunk in [1, 2, 3, 5, 7, 16, 64, 100, 1 << 20] {
            let got = try lines(of: Array(text.utf8), chunkSize: chunk)
            #expect(got.map(\.1) == expected, "chunk \(chunk)")
            #expect(got.map(\.0) == Array(1...7), "chunk \(chunk)")
        }
    }

    @Test func emptyFileHasNoLines() throws {
        #expect(try lines(of: [], chunkSize: 64).isEmpty)
    }

    @Test func onlyNewlines() throws {
        let got = try lines(of: Array("\n\n\r\n".utf8), chunkSize: 2)
        #expect(got.map(\.1) == ["", "", ""])
    }

    @Test func lineLongerThanManyChunks() throws {
        let long = String(repeating: "abcdefghij", count: 250_000)  // 2.5 MB
        let got = try lines(of: Array("a\n\(long)\nb".utf8), chunkSize: 4096)
        #expect(got.count == 3)
        #expect(got[1].1 == long)
        #expect(got[2].1 == "b")
    }

    @Test func missingFileIsAContractError() throws {
        let path = "/nonexistent/dir/exchanges.jsonl"
        do {
            _ = try LineReader(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.file == path)
            #expect(error.line == nil)
            #expect(error.message.hasPrefix("cannot open"))
        }
    }

    @Test func directoryIsAReadError() throws {
        do {
            let reader = try LineReader(path: "/tmp")
            _ = try reader.nextLine()
            Issue.record("expected an error")
        } catch {
            #expect(error.file == "/tmp")
            #expect(error.message.hasPrefix("cannot read"))
        }
    }
}

@Suite struct ExchangeReaderTests {
    func exchangeLine(_ i: Int, prompt: String? = nil) -> String {
        var e = Exchange(id: "ex-\(i)", ts: Timestamp(milliseconds: 1_776_845_702_000 + Int64(i) * 1000),
                         accountID: "acct-\(i % 3)", model: "m", inputTokens: i, outputTokens: 2 * i)
        e.prompt = prompt ?? "prompt number \(i) with some text to make the line longer than a chunk"
        e.client.ip = "10.0.0.\(i)"
        return e.jsonLine
    }

    @Test func readsAFileAcrossChunkBoundaries() throws {
        let text = (0..<50).map { exchangeLine($0) }.joined(separator: "\n") + "\n"
        let path = try temporaryFile(text)
        defer { removeFile(path) }
        let (bigReader, reference) = try readAll(path)
        #expect(reference.count == 50)
        #expect(reference.map(\.inputTokens) == Array(0..<50))
        #expect(reference[49].client.ip == "10.0.0.49")
        #expect(bigReader.linesRead == 50)
        #expect(bigReader.bytesRead == Int64(text.utf8.count))
        for chunk in [1, 7, 64, 333] {
            let (reader, got) = try readAll(path, chunkSize: chunk)
            #expect(got == reference, "chunk \(chunk)")
            #expect(reader.linesRead == 50)
            #expect(reader.invalidLines == 0)
        }
    }

    @Test func emptyFile() throws {
        let path = try temporaryFile("")
        defer { removeFile(path) }
        let (reader, got) = try readAll(path)
        #expect(got.isEmpty)
        #expect(reader.linesRead == 0)
        #expect(reader.bytesRead == 0)
        #expect(try reader.next() == nil)
    }

    @Test func blankLinesCRLFAndLastLineWithoutNewline() throws {
        let text = "\n" + exchangeLine(1) + "\r\n  \t\r\n\r\n" + exchangeLine(2) + "\n\n" + exchangeLine(3)
        let path = try temporaryFile(text)
        defer { removeFile(path) }
        for chunk in [16, 1 << 20] {
            let (reader, got) = try readAll(path, chunkSize: chunk)
            #expect(got.map(\.id) == ["ex-1", "ex-2", "ex-3"])
            #expect(reader.linesRead == 7)
        }
    }

    @Test func errorNamesFileLineAndField() throws {
        let text = exchangeLine(1) + "\n\n" + line([("ts", "\"yesterday\"")]) + "\n" + exchangeLine(2) + "\n"
        let path = try temporaryFile(text)
        defer { removeFile(path) }
        let reader = try ExchangeReader(path: path)
        #expect(try reader.next()?.id == "ex-1")
        do {
            _ = try reader.next()
            Issue.record("expected an error")
        } catch {
            #expect(error == ContractError(file: path, line: 3, field: "ts", message: "not an RFC 3339 time"))
            #expect(error.description == "\(path):3: field `ts`: not an RFC 3339 time")
        }
    }

    @Test func skipInvalidCountsAndContinues() throws {
        var lines: [String] = []
        var expectedIDs: [String] = []
        var badLineNumbers: [Int] = []
        for i in 1...30 {
            if i % 2 == 0 {
                lines.append(i % 4 == 0 ? "{\"id\": \"broken" : line([("input_tokens", "-\(i)")]))
                badLineNumbers.append(i)
            } else {
                lines.append(exchangeLine(i))
                expectedIDs.append("ex-\(i)")
            }
        }
        let path = try temporaryFile(lines.joined(separator: "\n"))
        defer { removeFile(path) }
        for chunk in [32, 1 << 20] {
            let (reader, got) = try readAll(path, skipInvalid: true, chunkSize: chunk)
            #expect(got.map(\.id) == expectedIDs)
            #expect(reader.invalidLines == 15)
            #expect(reader.linesRead == 30)
            #expect(reader.firstErrors.count == 10)
            #expect(reader.firstErrors.compactMap(\.line) == Array(badLineNumbers.prefix(10)))
            #expect(reader.firstErrors[0].field == "input_tokens")
            #expect(reader.firstErrors[0].message == "must not be negative")
            #expect(reader.firstErrors[1].field == nil)
            #expect(reader.firstErrors[1].message == "not valid JSON: unexpected end of line")
        }
        // without skipInvalid the first bad line stops the reader
        do {
            _ = try readAll(path)
            Issue.record("expected an error")
        } catch let error as ContractError {
            #expect(error.line == 2)
        }
    }

    @Test func invalidUTF8InAFile() throws {
        var bytes = Array((exchangeLine(1) + "\n").utf8)
        bytes += Array(line().dropLast().utf8) + Array(#","prompt":"caf"#.utf8) + [0xE9] + Array(#"!"}"#.utf8) + [10]
        bytes += Array((exchangeLine(3) + "\n").utf8)
        let path = try temporaryFile(bytes)
        defer { removeFile(path) }
        do {
            _ = try readAll(path)
            Issue.record("expected an error")
        } catch let error as ContractError {
            #expect(error.line == 2)
            #expect(error.field == "prompt")
            #expect(error.message.hasPrefix("not valid UTF-8"))
        }
        let (reader, got) = try readAll(path, skipInvalid: true, chunkSize: 64)
        #expect(got.map(\.id) == ["ex-1", "ex-3"])
        #expect(reader.invalidLines == 1)
    }

    @Test func hugePromptAcrossSmallChunks() throws {
        let prompt = String(repeating: "long prompt text \\ \"quoted\" é\n", count: 40_000)  // ~1.2 MB
        let text = exchangeLine(1) + "\n" + exchangeLine(2, prompt: prompt) + "\n" + exchangeLine(3) + "\n"
        let path = try temporaryFile(text)
        defer { removeFile(path) }
        let (_, got) = try readAll(path, chunkSize: 64)
        #expect(got.count == 3)
        #expect(got[1].prompt == prompt)
        #expect(got[2].id == "ex-3")
        let (_, meta) = try readAll(path, fields: .withoutText, chunkSize: 4096)
        #expect(meta.map(\.prompt) == [nil, nil, nil])
        #expect(meta.map(\.inputTokens) == [1, 2, 3])
    }

    @Test func missingFile() throws {
        do {
            _ = try ExchangeReader(path: "/nonexistent/x.jsonl")
            Issue.record("expected an error")
        } catch {
            #expect(error.file == "/nonexistent/x.jsonl")
            #expect(error.message.hasPrefix("cannot open"))
        }
    }
}

@Suite struct ContractFilesTests {
    @Test func accountsRoundTripAndRead() throws {
        let full = Account(accountID: "acct-1", createdAt: Timestamp(rfc3339: "2026-01-02T03:04:05.678Z"),
                           orgID: "org", emailDomain: "example.com", paymentFingerprint: "pf", verification: "phone",
                           program: "research", country: "FR", label: "c1")
        let minimal = Account(accountID: "acct-2")
        let text = full.jsonLine + "\n\n" + minimal.jsonLine + "\r\n"
            + #"{"account_id":"acct-3","created_at":"2026-01-02T05:04:05+02:00","extra":{"x":[1]},"org_id":null}"#
        let path = try temporaryFile(text)
        defer { removeFile(path) }
        let accounts = try readAccounts(path: path)
        #expect(accounts.count == 3)
        #expect(accounts[0] == full)
        #expect(accounts[1] == minimal)
        #expect(accounts[2] == Account(accountID: "acct-3", createdAt: Timestamp(rfc3339: "2026-01-02T03:04:05Z")))
    }

    @Test func invalidAccounts() throws {
        let text = #"{"account_id":"a"}"# + "\n" + #"{"org_id":"o"}"# + "\n" + #"{"account_id":"c","created_at":"soon"}"#
            + "\n" + #"{"account_id":"d","country":1}"# + "\n" + #"{"account_id":"e"}"#
        let path = try temporaryFile(text)
        defer { removeFile(path) }
        do {
            _ = try readAccounts(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error == ContractError(file: path, line: 2, field: "account_id", message: "missing required field"))
        }
        let skipped = try readAccounts(path: path, skipInvalid: true)
        #expect(skipped.map(\.accountID) == ["a", "e"])
    }

    @Test func accountFieldErrors() throws {
        func decodeAccount(_ text: String) -> Result<Account, ContractError> {
            let bytes = [UInt8](text.utf8)
            return bytes.withUnsafeBufferPointer { buf in
                do throws(ContractError) {
                    return .success(try Account.decode(line: buf, file: "a.jsonl", lineNumber: 3))
                } catch {
                    return .failure(error)
                }
            }
        }
        #expect(decodeAccount(#"{"account_id":"c","created_at":"soon"}"#).error
            == ContractError(file: "a.jsonl", line: 3, field: "created_at", message: "not an RFC 3339 time"))
        #expect(decodeAccount(#"{"account_id":"d","country":1}"#).error?.field == "country")
        #expect(decodeAccount(#"{"account_id":"d"} ]"#).error?.field == nil)
        #expect(decodeAccount(#"{"account_id":"d","label":null}"#).value == Account(accountID: "d"))
    }

    @Test func labels() throws {
        let text = #"{"account_id":"a","campaign":"c1"}"# + "\n" + #"{"campaign":"c2","account_id":"b","note":1}"# + "\n\n"
        let path = try temporaryFile(text)
        defer { removeFile(path) }
        #expect(try readLabels(path: path) == [CampaignLabel(accountID: "a", campaign: "c1"),
                                               CampaignLabel(accountID: "b", campaign: "c2")])
        let bad = try temporaryFile(#"{"account_id":"a","campaign":"c1"}"# + "\n" + #"{"account_id":"b"}"#)
        defer { removeFile(bad) }
        do {
            _ = try readLabels(path: bad)
            Issue.record("expected an error")
        } catch {
            #expect(error == ContractError(file: bad, line: 2, field: "campaign", message: "missing required field"))
        }
        let wrongType = try temporaryFile(#"{"account_id":5,"campaign":"c1"}"#)
        defer { removeFile(wrongType) }
        #expect(throws: ContractError.self) { try readLabels(path: wrongType) }
    }
}
