import Testing
@testable import MoatCore

@Suite struct TimestampTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)),
        ("1970-01-01T00:00:00.001Z", 1),
        ("2026-04-22T08:15:02.114Z", 1_776_845_702_114),
        ("2026-04-22T10:15:02.114+02:00", 1_776_845_702_114),
        ("2026-04-22T03:45:02.114-04:30", 1_776_845_702_114),
        ("2026-04-22t08:15:02.114z", 1_776_845_702_114),
        ("2026-04-22 08:15:02.114Z", 1_776_845_702_114),
        ("2026-04-22T08:15:02.1Z", 1_776_845_702_100),
        ("2026-04-22T08:15:02.11Z", 1_776_845_702_110),
        ("2026-04-22T08:15:02.114999999Z", 1_776_845_702_114),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000),
        ("1969-12-31T23:59:59.999Z", -1),
        ("2000-03-01T00:00:00+00:00", 951_868_800_000),
        ("2016-12-31T23:59:60Z", 1_483_228_799_000),  // leap second is clamped to :59
    ])
    func parses(_ text: String, _ ms: Int64) throws {
        let t = try #require(Timestamp(rfc3339: text))
        #expect(t.milliseconds == ms)
    }

    @Test(arguments: [
        "", "yesterday", "2026-04-22", "2026-04-22T08:15:02", "2026-04-22T08:15:02.114", "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z", "2026-04-00T00:00:00Z", "2025-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z", "2026-04-22T24:00:00Z", "2026-04-22T08:60:00Z", "2026-04-22T08:15:61Z",
        "2026-04-22T08:15:02.Z", "2026-04-22T08:15:02+02", "2026-04-22T08:15:02+0200", "2026-04-22T08:15:02+24:00",
        "2026-04-22T08:15:02+02:60", "2026-04-22T08:15:02Zjunk", "2026-04-22T08:15:02+02:00 ", " 2026-04-22T08:15:02Z",
        "26-04-22T08:15:02Z", "2026/04/22T08:15:02Z", "2026-04-22X08:15:02Z", "２026-04-22T08:15:02Z",
        "2026-04-22T08:15:02.114ZZ", "+2026-04-22T08:15:02Z",
    ])
    func rejects(_ text: String) {
        #expect(Timestamp(rfc3339: text) == nil, "\(text)")
    }

    @Test func formatsInUTCWithMilliseconds() {
        #expect(Timestamp(milliseconds: 1_776_845_702_114).rfc3339 == "2026-04-22T08:15:02.114Z")
        #expect(Timestamp(milliseconds: 0).rfc3339 == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(milliseconds: -1).rfc3339 == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp(milliseconds: 951_782_400_000).rfc3339 == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp(milliseconds: 253_402_300_799_999).rfc3339 == "9999-12-31T23:59:59.999Z")
        #expect(Timestamp(milliseconds: -62_167_219_200_000).rfc3339 == "0000-01-01T00:00:00.000Z")
        #expect("\(Timestamp(milliseconds: 5))" == "1970-01-01T00:00:00.005Z")
    }

    @Test func roundTripsAcrossCenturies() throws {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<5_000 {
            let ms = Int64(rng.next() % 253_402_300_800_000) - 62_167_219_200_000 * Int64(rng.next() % 2)
            let t = Timestamp(milliseconds: ms)
            let back = try #require(Timestamp(rfc3339: t.rfc3339), "\(ms)")
            #expect(back == t)
        }
    }

    @Test func parseFromBytes() {
        let bytes = Array("2026-04-22T08:15:02.114Z".utf8)
        let t = bytes.withUnsafeBufferPointer { Timestamp.parse($0) }
        #expect(t?.milliseconds == 1_776_845_702_114)
        let short = Array("2026".utf8)
        #expect(short.withUnsafeBufferPointer { Timestamp.parse($0) } == nil)
        #expect([UInt8]().withUnsafeBufferPointer { Timestamp.parse($0) } == nil)
    }

    @Test func hourOfDayAndDayIndex() {
        let t = Timestamp(milliseconds: 1_776_845_702_114)  // 08:15 UTC
        #expect(t.hourOfDay() == 8)
        #expect(t.hourOfDay(offsetHours: 2) == 10)
        #expect(t.hourOfDay(offsetHours: -9) == 23)
        #expect(t.dayIndex == 20_565)
        let beforeEpoch = Timestamp(milliseconds: -1)  // 1969-12-31T23:59:59.999Z
        #expect(beforeEpoch.hourOfDay() == 23)
        #expect(beforeEpoch.hourOfDay(offsetHours: 1) == 0)
        #expect(beforeEpoch.dayIndex == -1)
        #expect(Timestamp(milliseconds: -Timestamp.day).dayIndex == -1)
        #expect(Timestamp(milliseconds: -Timestamp.day - 1).dayIndex == -2)
    }
}
