import MoatCore
@testable import MoatIntel
import Testing

@Suite("intel: JSON values")
struct JSONValueTests {
    @Test func parsedDocumentsSerialiseBackToTheSameJSONInTheSameOrder() throws {
        let text = #"{"type":"indicator","id":"x","n":-12.5e3,"ok":true,"none":null,"list":[1,"a",{"b":[]}],"s":"q\"\\\/\n\u00e9\ud83d\ude00"}"#
        let v = try JSONValue.parse(text)
        #expect(v["type"]?.string == "indicator")
        #expect(v["n"]?.double == -12500)
        #expect(v["s"]?.string == "q\"\\/\né😀")
        let again = try JSONValue.parse(v.serialized())
        #expect(again == v)
        #expect(v.members?.map(\.0) == ["type", "id", "n", "ok", "none", "list", "s"])
        #expect(try JSONValue.parse(v.pretty()) == v)
    }

    @Test func duplicateMemberNamesAreRefusedWithTheirPosition() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(#"{"a":1,"a":2}"#) }
        do {
            _ = try JSONValue.parse("{\n  \"object_marking_refs\": [],\n  \"object_marking_refs\": []\n}")
            Issue.record("accepted a duplicate member")
        } catch {
            #expect(error.line == 3)
            #expect(error.message.contains("duplicate member"))
        }
    }

    @Test func malformedDocumentsAreRefused() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"\\x\"", "\"\\ud800\"", "tru", "{} {}", "\"a\nb\"",
                    String(repeating: "[", count: 200) + String(repeating: "]", count: 200)] {
            #expect(throws: JSONParseError.self, "accepted \(bad)") { try JSONValue.parse(bad) }
        }
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func numbersReadAsIntegersOnlyWhenTheyAreWhole() throws {
        #expect(try JSONValue.parse("42").int == 42)
        #expect(try JSONValue.parse("4.5").int == nil)
        #expect(try JSONValue.parse("1e2").int == 100)
        #expect(JSONValue.double(0.25).text == "0.25")
        #expect(JSONValue.double(3).text == "3")
    }
}

@Suite("intel: identifiers, ATLAS and TLP")
struct IdentifierTests {
    @Test func atlasTechniqueIdsAreDerivedTheWayATLASDerivesThem() {
        // The issue's check, and ATLAS 5.6's published ids of the other three techniques.
        #expect(ATLASTechnique.extractModel.stixID == "attack-pattern--3f567912-629a-5e0b-ab0c-0102977c2d6c")
        #expect(ATLASTechnique.inferenceAPIAccess.stixID == "attack-pattern--5ac1f849-523e-51bf-a1e9-1a97ab91cc91")
        #expect(ATLASTechnique.serviceProxies.stixID == "attack-pattern--647ac4ac-b2bc-53f7-ab83-81f421a1f0b5")
        #expect(ATLASTechnique.establishAccounts.stixID == "attack-pattern--d3d7763a-58e1-5e38-84fd-3abea967cb08")
    }

    @Test func uuid5MatchesTheRFC4122NameBasedAlgorithm() {
        // uuid.uuid5(uuid.NAMESPACE_DNS, "python.org") in Python.
        let dns: [UInt8] = [0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8]
        #expect(STIXIdentifier.uuid5(namespace: dns, name: "python.org") == "886313e1-3b8a-5372-9b90-0c9aee199e5d")
    }

    @Test func moatIdsAreStableVersion4UUIDs() {
        let a = STIXIdentifier.make("campaign", seed: "lab\u{0}C-0001")
        #expect(a == STIXIdentifier.make("campaign", seed: "lab\u{0}C-0001"))
        #expect(a != STIXIdentifier.make("campaign", seed: "lab\u{0}C-0002"))
        #expect(STIXIdentifier.isValid(a))
        let uuid = Array(a.split(separator: "--")[1])
        #expect(uuid[14] == "4")
        #expect("89ab".contains(uuid[19]))
        #expect(STIXIdentifier.type(of: a) == "campaign")
        for bad in ["campaign-3f567912-629a-5e0b-ab0c-0102977c2d6c", "Campaign--3f567912-629a-5e0b-ab0c-0102977c2d6c",
                    "campaign--3f567912-629a-5e0b-ab0c-0102977c2d6", "campaign--3f567912x629a-5e0b-ab0c-0102977c2d6c", ""] {
            #expect(!STIXIdentifier.isValid(bad), "\(bad)")
        }
    }

    @Test func tlpLevelsAreOrderedAndUseTheOfficialTLP2MarkingDefinitions() {
        #expect(TLP.clear < .green && TLP.green < .amber && TLP.amber < .amberStrict && TLP.amberStrict < .red)
        #expect(TLP.amberStrict.markingDefinitionID == "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003")
        #expect(TLP.clear.markingDefinition["name"]?.string == "TLP:CLEAR")
        #expect(TLP.red.markingDefinition["extensions"]?[TLP.extensionDefinitionID]?["tlp_2_0"]?.string == "red")
        for t in TLP.allCases { #expect(TLP(markingDefinitionID: t.markingDefinitionID) == t) }
        // TLP 1.0 (STIX 2.1 built-ins): white reads as clear.
        #expect(TLP(markingDefinitionID: "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9") == .clear)
        let object: JSONValue = .object([("object_marking_refs", [.string(TLP.green.markingDefinitionID), .string(TLP.red.markingDefinitionID)])])
        #expect(TLP(object: object) == .red, "the narrowest marking wins")
        #expect(TLP(text: "TLP:AMBER+STRICT") == .amberStrict)
        #expect(TLP(text: "purple") == nil)
    }

    @Test func stixTimesKeepMicroseconds() {
        #expect(STIXTime.micros("2026-04-22T08:15:02.114223Z") == STIXTime.micros("2026-04-22T08:15:02Z")! + 114_223)
        #expect(STIXTime.micros("2026-04-22T10:15:02.5+02:00") == STIXTime.micros("2026-04-22T08:15:02.500Z"))
        #expect(STIXTime.format(micros: STIXTime.micros("2026-04-22T08:15:02.000042Z")!) == "2026-04-22T08:15:02.000042Z")
        #expect(STIXTime.micros("yesterday") == nil)
    }
}

@Suite("intel: addresses and keyed hashes")
struct KeyedHashTests {
    static let key = try! TrustGroupKey(group: "g", keyID: "g-1", secret: Array(repeating: 7, count: 32))

    @Test func addressesParseAndPrintCanonically() {
        #expect(IPAddress("2001:0db8:0000:0000:0000:ff00:0042:8329")?.description == "2001:db8::ff00:42:8329")
        #expect(IPAddress("::ffff:192.0.2.1") == IPAddress("192.0.2.1"))
        #expect(IPAddress("::1")?.description == "::1")
        for bad in ["1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1:2:3:4:5:6:7:8:9", "1::2::3", "x"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
        let p = IPPrefix("203.0.113.77/24")!
        #expect(p.description == "203.0.113.0/24")
        #expect(p.contains(IPAddress("203.0.113.200")!))
        #expect(!p.contains(IPAddress("203.0.114.1")!))
        #expect(IPPrefix("2001:db8:7:1::5/48")?.description == "2001:db8:7::/48")
    }

    @Test func equalIdentifiersWrittenDifferentlyHashTheSame() {
        let k = Self.key
        #expect(k.hash(.ipAddress, "::ffff:198.51.100.7") == k.hash(.ipAddress, "198.51.100.7"))
        #expect(k.hash(.emailDomain, "Example.COM.") == k.hash(.emailDomain, "example.com"))
        #expect(k.hash(.paymentFingerprint, " pf_1 ") == k.hash(.paymentFingerprint, "pf_1"))
        #expect(k.hash(.ipAddress, "not an ip") == nil)
        #expect(k.hash(.accountID, "") == nil)
    }

    @Test func hashesDependOnTheKindAndTheKey() throws {
        let other = try TrustGroupKey(group: "g", keyID: "g-2", secret: Array(repeating: 8, count: 32))
        let h = Self.key.hash(.accountID, "acct-1")!
        #expect(h.count == 64)
        #expect(h != Self.key.hash(.paymentFingerprint, "acct-1"))
        #expect(h != other.hash(.accountID, "acct-1"))
        #expect(h == Self.key.hash(.accountID, "acct-1"))
    }

    @Test func keysAreReadFromHexOrBase64AndShortKeysAreRefused() {
        let hex = TrustGroupKey.generateSecret()
        #expect(hex.count == 64)
        #expect(TrustGroupKey.decodeSecret(hex)?.count == 32)
        #expect(TrustGroupKey.decodeSecret("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?.count == 32)
        #expect(TrustGroupKey.decodeSecret("abcd") == nil)
        #expect(throws: IntelError.self) { try TrustGroupKey(group: "g", keyID: "k", secret: [1, 2, 3]) }
    }
}
