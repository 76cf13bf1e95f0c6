import MoatCore
@testable import MoatIntel
import Testing

@Suite("intel: STIX bundles from reports")
struct BundleBuilderTests {
    func objects(_ b: ExportedBundle) -> [JSONValue] { b.bundle["objects"]?.array ?? [] }
    func text(_ b: ExportedBundle) -> String { String(decoding: b.bundle.serialized(), as: UTF8.self) }

    @Test(arguments: [TLP.clear, .green, .amber, .amberStrict])
    func noRawPersonalDataAppearsBelowRed(tlp: TLP) throws {
        let b = try IntelFixture.bundle(tlp: tlp)
        let t = text(b)
        for raw in IntelFixture.rawValues {
            #expect(!t.contains(raw), "\(tlp.label) bundle contains the raw value \(raw)")
        }
        #expect(!t.contains(IntelFixture.systemPrompt), "system prompt text")
        #expect(!t.contains("Explain step by step"), "prompt template text")
        #expect(b.summary.keyedValues > 0)
    }

    @Test func atRedRawIdentifiersAppearOnlyWhenAskedFor() throws {
        let plain = text(try IntelFixture.bundle(tlp: .red))
        #expect(!plain.contains(IntelFixture.payment))
        let raw = text(try IntelFixture.bundle(tlp: .red, raw: true))
        // The same scan that guards lower levels finds them here, so it is able to fail.
        #expect(raw.contains(IntelFixture.payment))
        #expect(raw.contains(IntelFixture.campaignAccounts[0]))
        #expect(throws: IntelError.self) { try IntelFixture.bundle(tlp: .amber, raw: true) }
    }

    @Test func evidenceKeepsItsMeaningWithIdentifiersReplacedByKeyedHashes() throws {
        let b = try IntelFixture.bundle()
        let campaign = try #require(objects(b).first { $0["type"]?.string == "campaign" })
        let description = try #require(campaign["description"]?.string)
        let h = IntelFixture.key.hash(.paymentFingerprint, IntelFixture.payment)!
        #expect(description.contains("[payment fingerprint hmac:\(h.prefix(12))]"))
        #expect(description.contains("[e-mail address hmac:"))
        #expect(description.contains("[exact IP address hmac:"))
        #expect(description.contains("198.51.100.0/24"), "prefixes are not identifiers")
    }

    @Test(arguments: TLP.allCases)
    func everyObjectCarriesTheTLPMarking(tlp: TLP) throws {
        let b = try IntelFixture.bundle(tlp: tlp, operatorID: "OP-0001")
        for o in objects(b) where o["type"]?.string != "marking-definition" {
            #expect(o["object_marking_refs"]?.strings == [tlp.markingDefinitionID], "\(o["id"]?.string ?? "?")")
        }
        let markings = objects(b).filter { $0["type"]?.string == "marking-definition" }
        #expect(markings == [tlp.markingDefinition])
    }

    @Test func reExportingGivesTheSameBytes() throws {
        let a = try IntelFixture.bundle().bundle.serialized()
        let b = try IntelFixture.bundle().bundle.serialized()
        #expect(a == b)
        var seen = Set<String>()
        for o in objects(try IntelFixture.bundle()) {
            let id = try #require(o["id"]?.string)
            #expect(STIXIdentifier.isValid(id))
            #expect(seen.insert(id).inserted, "duplicate \(id)")
        }
    }

    @Test func atlasTechniquesAreObjectsWithATLASIdsOrReferencesOnly() throws {
        let withObjects = objects(try IntelFixture.bundle(atlas: .objects))
        let patterns = withObjects.filter { $0["type"]?.string == "attack-pattern" }
        #expect(Set(patterns.compactMap { $0["id"]?.string }) == Set(ATLASTechnique.distillation.map(\.stixID)))
        let extract = try #require(patterns.first { $0["id"]?.string == "attack-pattern--3f567912-629a-5e0b-ab0c-0102977c2d6c" })
        #expect(extract["external_references"]?.array?.first?["source_name"]?.string == "mitre-atlas")
        #expect(extract["external_references"]?.array?.first?["external_id"]?.string == "AML.T0024.002")
        let refsOnly = objects(try IntelFixture.bundle(atlas: .references))
        #expect(!refsOnly.contains { $0["type"]?.string == "attack-pattern" })
        let uses = refsOnly.filter { $0["relationship_type"]?.string == "uses" }.compactMap { $0["target_ref"]?.string }
        #expect(Set(uses) == Set(ATLASTechnique.distillation.map(\.stixID)))
    }

    @Test func campaignsOfOneOperatorBecomeOneIntrusionSet() throws {
        let o = objects(try IntelFixture.bundle(operatorID: "OP-0007"))
        let sets = o.filter { $0["type"]?.string == "intrusion-set" }
        #expect(sets.count == 1)
        let setID = try #require(sets.first?["id"]?.string)
        let attributed = o.filter { $0["relationship_type"]?.string == "attributed-to" && $0["target_ref"]?.string == setID }
        #expect(attributed.count == 2)
        #expect(objects(try IntelFixture.bundle()).allSatisfy { $0["type"]?.string != "intrusion-set" })
    }

    @Test func indicatorsComeFromTheLogAndLeaveOutWhatOrdinaryAccountsUse() throws {
        let b = try IntelFixture.bundle()
        let patterns = objects(b).filter { $0["type"]?.string == "indicator" }.compactMap { $0["pattern"]?.string }
        #expect(patterns.contains("[ipv4-addr:value ISSUBSET '198.51.100.0/24']"))
        #expect(patterns.contains("[autonomous-system:number = 64500]"))
        #expect(!patterns.contains("[autonomous-system:number = 16509]"), "ordinary customers use AS16509")
        #expect(patterns.contains { $0.contains("User-Agent") && $0.contains("tls_fingerprint") && $0.contains("distil-harvester") })
        #expect(patterns.contains { $0.contains("system-prompt-sha256") && $0.contains(Fingerprint.sha256(IntelFixture.systemPrompt)) })
        #expect(patterns.contains { $0.contains("prompt-family") && $0.contains(Fingerprint.family(.promptFamily, signature: "a11ce5")) })
        #expect(patterns.contains { $0.contains("moat-keyed-hash:kind = 'payment-fingerprint'") })
        #expect(!patterns.contains { $0.contains("moat-keyed-hash:kind = 'email-domain'") && $0.contains(IntelFixture.key.hash(.emailDomain, "gmail.com")!) })
        #expect(b.summary.withheldCommon > 0)
        for o in objects(b) where o["type"]?.string == "indicator" {
            #expect(o["valid_from"]?.string != nil && o["valid_until"]?.string != nil)
            #expect((o["confidence"]?.int ?? -1) > 0)
            #expect(o["indicator_types"]?.strings?.isEmpty == false)
            #expect(o["description"]?.string?.isEmpty == false)
            let from = try #require(o["valid_from"]?.string.flatMap { Timestamp(rfc3339: $0) })
            let until = try #require(o["valid_until"]?.string.flatMap { Timestamp(rfc3339: $0) })
            #expect(from < until)
        }
        let sightings = objects(b).filter { $0["type"]?.string == "sighting" }
        let campaignID = try #require(objects(b).first { $0["type"]?.string == "campaign" }?["id"]?.string)
        let campaignSighting = try #require(sightings.first { $0["sighting_of_ref"]?.string == campaignID })
        #expect(campaignSighting["count"]?.int == 60)
        #expect(campaignSighting["extensions"]?[MoatExtension.id]?["accounts"]?.int == 6)
        #expect(sightings.count > 1, "indicators from the log have sightings too")
    }

    @Test func withoutAKeyIdentifiersAreWithheld() throws {
        let b = try IntelFixture.bundle(key: nil)
        #expect(b.summary.keyedValues == 0)
        #expect(b.summary.withheldNoKey > 0)
        #expect(!objects(b).contains { $0["type"]?.string == MoatExtension.keyedHashType })
        let t = text(b)
        for raw in IntelFixture.rawValues { #expect(!t.contains(raw), "\(raw)") }
        #expect(t.contains("[payment fingerprint withheld]"))
    }

    @Test func withoutTheLogTheReportsIndicatorsAreShared() throws {
        let b = try IntelFixture.bundle(withLog: false)
        let patterns = objects(b).filter { $0["type"]?.string == "indicator" }.compactMap { $0["pattern"]?.string }
        #expect(patterns.contains("[ipv4-addr:value ISSUBSET '198.51.100.0/24']"))
        #expect(patterns.contains { $0.contains("moat-keyed-hash:kind = 'account-id'") })
        #expect(!patterns.contains { $0.contains("ip-address") }, "exact addresses need the log")
        let t = text(b)
        for raw in IntelFixture.rawValues { #expect(!t.contains(raw), "\(raw)") }
    }

    @Test func aLogWithoutTheCampaignsTrafficFallsBackToTheReport() throws {
        let r = IntelFixture.report()
        let unrelated = MatcherTests.labBExchanges()
        let b = try BundleBuilder(report: r, settings: ExportSettings(tlp: .green, producer: Producer(name: "Lab A"), key: IntelFixture.key),
                                  digest: IntelFixture.digest(r, unrelated)).build()
        let patterns = objects(b).filter { $0["type"]?.string == "indicator" }.compactMap { $0["pattern"]?.string }
        #expect(patterns.contains("[ipv4-addr:value ISSUBSET '198.51.100.0/24']"))
        #expect(patterns.contains("[autonomous-system:number = 64500]"))
    }

    @Test func keyedHashesLiveInExtensionDefinedObjectsWithTheirKeyID() throws {
        let b = try IntelFixture.bundle()
        let defs = objects(b).filter { $0["type"]?.string == "extension-definition" }
        #expect(defs.count == 1)
        #expect(defs.first?["extension_types"]?.strings == ["new-sco", "property-extension"])
        let hashes = objects(b).filter { $0["type"]?.string == MoatExtension.keyedHashType }
        #expect(!hashes.isEmpty)
        for h in hashes {
            #expect(h["key_id"]?.string == IntelFixture.key.keyID)
            #expect(h["algorithm"]?.string == "HMAC-SHA-256")
            #expect(h["extensions"]?[MoatExtension.id]?["extension_type"]?.string == "new-sco")
        }
        let accountHash = IntelFixture.key.hash(.accountID, IntelFixture.campaignAccounts[0])!
        #expect(hashes.contains { $0["value"]?.string == accountHash && $0["kind"]?.string == "account-id" })
    }
}
