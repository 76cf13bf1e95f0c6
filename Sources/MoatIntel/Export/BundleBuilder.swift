import Foundation
import MoatCore
import MoatDetect

/// A bundle and what went into it.
public struct ExportedBundle: Sendable {
    public var bundle: JSONValue
    public var summary: ExportSummary
}

/// Counts for the operator: what was shared and what was held back, and why.
public struct ExportSummary: Sendable, Equatable {
    /// Objects by STIX type.
    public var objects: [String: Int] = [:]
    /// Indicators by what they describe (`network-prefix`, `keyed:account-id`, ...).
    public var indicators: [String: Int] = [:]
    /// Values left out because ordinary accounts use them too.
    public var withheldCommon = 0
    /// Identifiers left out because no trust-group key was given.
    public var withheldNoKey = 0
    /// Identifiers shared as keyed hashes.
    public var keyedValues = 0
}

/// Builds a STIX 2.1 bundle from a detection report (contract section 4), and optionally the exchange
/// log's digest and the accounts file. Pure: the same inputs give the same bytes (ids are derived from
/// the producer and the campaign, times come from the report).
///
/// Every object carries the TLP 2.0 marking of `settings.tlp`. Below TLP:RED no identifier (account id,
/// exact IP, payment fingerprint, e-mail domain or address) appears in clear: as keyed hashes only, and
/// free text is redacted (`Redactor`).
public struct BundleBuilder {
    public let report: Report
    public let settings: ExportSettings
    public let digest: ExchangeDigest?
    public let accounts: [Account]

    public init(report: Report, settings: ExportSettings, digest: ExchangeDigest? = nil, accounts: [Account] = []) {
        self.report = report
        self.settings = settings
        self.digest = digest
        self.accounts = accounts
    }

    // Working state of one build.
    private var objects: [JSONValue] = []
    private var seen: Set<String> = []
    private var summary = ExportSummary()
    private var markings: [String] { [settings.tlp.markingDefinitionID] }
    private var producerID: String { settings.producer.stixID }

    public func build() throws(IntelError) -> ExportedBundle {
        if settings.rawIdentifiers, settings.tlp != .red {
            throw IntelError("raw identifiers may only be shared at TLP:RED (asked for \(settings.tlp.label))")
        }
        var b = self
        try b.run()
        return ExportedBundle(bundle: b.bundle(), summary: b.summary)
    }

    // MARK: - Assembly

    private mutating func run() throws(IntelError) {
        append(settings.tlp.markingDefinition)
        append(producerIdentity())
        append(MoatExtension.definer(markings: markings))
        append(MoatExtension.definition(markings: markings))
        if settings.atlas == .objects, !report.campaigns.isEmpty {
            for t in ATLASTechnique.distillation { append(t.attackPattern(markings: markings)) }
        }
        let redactor = makeRedactor()
        let operators = operatorGroups()
        var intrusionSetOf: [String: String] = [:]
        for (label, members) in operators {
            let campaigns = report.campaigns.filter { members.contains($0.id) }
            let id = STIXIdentifier.make("intrusion-set", seed: producerSeed + label)
            let first = campaigns.map { time($0.firstSeen) }.min()!
            let last = campaigns.map { time($0.lastSeen) }.max()!
            let created = campaigns.map { time($0.detectedAt) }.min()!
            append(sdo("intrusion-set", id: id, created: created, modified: max(created, modifiedTime(last)), [
                ("name", .string("Distillation operator \(label) (\(settings.producer.name))")),
                ("description", .string("One operator behind \(campaigns.count) distillation campaigns seen by \(settings.producer.name) (\(campaigns.map(\.id).sorted().joined(separator: ", "))), tied together by campaign memory: the same behaviour and prompt families coming back with fresh accounts.")),
                ("first_seen", .string(first.rfc3339)), ("last_seen", .string(max(first, last).rfc3339)),
                ("goals", ["Train a cheaper model on the answers of ours (distillation)."]),
            ]))
            for c in members { intrusionSetOf[c] = id }
        }
        for campaign in report.campaigns {
            try addCampaign(campaign, intrusionSet: intrusionSetOf[campaign.id], redactor: redactor)
        }
    }

    private var producerSeed: String { "producer\u{0}" + settings.producer.name + "\u{0}" }

    private func bundle() -> JSONValue {
        let order = ["marking-definition", "identity", "extension-definition", "attack-pattern", "intrusion-set", "campaign",
                     "indicator", "relationship", "sighting"]
        func rank(_ o: JSONValue) -> Int { order.firstIndex(of: o["type"]?.string ?? "") ?? order.count }
        let sorted = objects.enumerated().sorted { a, b in
            let ra = rank(a.element), rb = rank(b.element)
            return ra != rb ? ra < rb : a.offset < b.offset
        }.map(\.element)
        var seed = ""
        for o in sorted { seed += (o["id"]?.string ?? "") + "|" + (o["modified"]?.string ?? "") + "\n" }
        return .object([
            ("type", "bundle"),
            ("id", .string(STIXIdentifier.make("bundle", seed: producerSeed + settings.tlp.rawValue + "\u{0}" + seed))),
            ("objects", .array(sorted)),
        ])
    }

    private mutating func append(_ object: JSONValue) {
        guard let id = object["id"]?.string, seen.insert(id).inserted else { return }
        objects.append(object)
        summary.objects[object["type"]?.string ?? "?", default: 0] += 1
    }

    private func producerIdentity() -> JSONValue {
        let p = settings.producer
        var members: [(String, JSONValue)] = [
            ("type", "identity"), ("spec_version", "2.1"), ("id", .string(producerID)),
            ("created", .string(MoatExtension.created)), ("modified", .string(MoatExtension.created)),
            ("name", .string(p.name)), ("identity_class", .string(p.identityClass)),
        ]
        if !p.sectors.isEmpty { members.append(("sectors", .array(p.sectors.map { .string($0) }))) }
        if let contact = p.contact { members.append(("contact_information", .string(contact))) }
        members.append(("object_marking_refs", .array(markings.map { .string($0) })))
        return .object(members)
    }

    /// A domain or relationship object with the common properties and the bundle's marking.
    private func sdo(_ type: String, id: String, created: Timestamp, modified: Timestamp, _ members: [(String, JSONValue)],
                     extensions: [(String, JSONValue)] = []) -> JSONValue {
        var all: [(String, JSONValue)] = [
            ("type", .string(type)), ("spec_version", "2.1"), ("id", .string(id)), ("created_by_ref", .string(producerID)),
            ("created", .string(created.rfc3339)), ("modified", .string(max(created, modified).rfc3339)),
        ]
        all += members
        all.append(("object_marking_refs", .array(markings.map { .string($0) })))
        if !extensions.isEmpty { all.append(("extensions", MoatExtension.properties(extensions))) }
        return .object(all)
    }

    private mutating func relationship(_ type: String, from source: String, to target: String, created: Timestamp,
                                       modified: Timestamp, description: String? = nil) {
        var members: [(String, JSONValue)] = [("relationship_type", .string(type))]
        if let description { members.append(("description", .string(description))) }
        members += [("source_ref", .string(source)), ("target_ref", .string(target))]
        append(sdo("relationship", id: STIXIdentifier.make("relationship", seed: "\(type)\u{0}\(source)\u{0}\(target)"),
                   created: created, modified: modified, members))
    }

    // MARK: - Campaigns

    private func time(_ text: String) -> Timestamp { Timestamp(rfc3339: text) ?? Timestamp(milliseconds: 0) }

    /// A campaign's objects change version when the report covers more time.
    private func modifiedTime(_ fallback: Timestamp) -> Timestamp {
        report.summary.lastTs.flatMap { Timestamp(rfc3339: $0) } ?? fallback
    }

    private mutating func addCampaign(_ c: Report.Campaign, intrusionSet: String?, redactor: Redactor) throws(IntelError) {
        let first = time(c.firstSeen), last = max(time(c.firstSeen), time(c.lastSeen))
        let created = time(c.detectedAt)
        let modified = max(created, modifiedTime(last))
        let seed = producerSeed + c.id + "\u{0}" + c.firstSeen
        let campaignID = STIXIdentifier.make("campaign", seed: seed)
        let capabilities = c.capabilities.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let mix = capabilities.filter { $0.value > 0 }.map { "\($0.key) \(Int(($0.value * 100).rounded()))%" }.joined(separator: ", ")
        var description = "Distillation campaign \(c.id) seen by \(settings.producer.name): \(c.accounts.count) accounts made \(c.exchanges) exchanges between \(first.rfc3339) and \(last.rfc3339); detected at \(created.rfc3339) with confidence \(c.confidence)."
        if !c.evidence.isEmpty { description += "\nEvidence:\n" + c.evidence.map { "- " + redactor.redact($0) }.joined(separator: "\n") }
        var ext: [(String, JSONValue)] = [
            ("accounts", .int(c.accounts.count)), ("exchanges", .int(c.exchanges)),
            ("capabilities", .object(capabilities.map { ($0.key, JSONValue.double($0.value)) })),
            ("detected_at", .string(created.rfc3339)),
        ]
        if let op = c.operatorID { ext.append(("operator", .string(op))) }
        append(sdo("campaign", id: campaignID, created: created, modified: modified, [
            ("name", .string("Distillation campaign \(c.id) (\(settings.producer.name))")),
            ("description", .string(description)),
            ("first_seen", .string(first.rfc3339)), ("last_seen", .string(last.rfc3339)),
            ("objective", .string("Harvest the model's answers to train another model" + (mix.isEmpty ? "." : "; capabilities targeted: \(mix)."))),
            ("confidence", .int(confidence(c.confidence))),
        ], extensions: ext))
        for t in ATLASTechnique.distillation {
            relationship("uses", from: campaignID, to: t.stixID, created: created, modified: modified,
                         description: "\(t.atlasID) \(t.name): \(t.use)")
        }
        if let intrusionSet {
            relationship("attributed-to", from: campaignID, to: intrusionSet, created: created, modified: modified)
        }
        appendSighting(of: campaignID, seed: seed, created: created, modified: modified, accounts: c.accounts.count,
                       exchanges: c.exchanges, first: first, last: last)
        let context = CampaignContext(campaign: c, id: campaignID, seed: seed, created: created, modified: modified,
                                      first: first, last: last)
        addClearIndicators(context)
        addIdentifierIndicators(context)
    }

    private struct CampaignContext {
        var campaign: Report.Campaign
        var id: String
        var seed: String
        var created: Timestamp
        var modified: Timestamp
        var first: Timestamp
        var last: Timestamp
    }

    private func confidence(_ c: Double) -> Int { min(100, max(0, Int((c * 100).rounded()))) }

    private mutating func appendSighting(of ref: String, seed: String, created: Timestamp, modified: Timestamp, accounts: Int,
                                         exchanges: Int, first: Timestamp, last: Timestamp) {
        append(sdo("sighting", id: STIXIdentifier.make("sighting", seed: seed + "\u{0}" + ref), created: created, modified: modified, [
            ("description", .string("\(accounts) account(s) made \(exchanges) exchange(s) between \(first.rfc3339) and \(last.rfc3339).")),
            ("first_seen", .string(first.rfc3339)), ("last_seen", .string(max(first, last).rfc3339)),
            ("count", .int(min(exchanges, 999_999_999))),
            ("sighting_of_ref", .string(ref)),
            ("where_sighted_refs", [.string(producerID)]),
        ], extensions: [("accounts", .int(accounts)), ("exchanges", .int(exchanges))]))
    }

    // MARK: - Indicators

    /// One value to share, with how the campaign used it (when the log says).
    private struct Candidate {
        var kind: String
        var values: [String]
        var pattern: String
        var name: String
        var why: String
        var types: [String]
        var validDays: Int
        var use: ExchangeDigest.Use?
        /// Share of the campaign's accounts that used it, when known.
        var share: Double?
    }

    private mutating func appendIndicator(_ x: Candidate, _ ctx: CampaignContext) {
        let c = ctx.campaign
        let first = x.use.map { Timestamp(milliseconds: $0.first) } ?? ctx.first
        let last = max(first, x.use.map { Timestamp(milliseconds: $0.last) } ?? ctx.last)
        let until = last.adding(milliseconds: Int64(x.validDays) * Timestamp.day)
        let base = c.confidence
        let conf = confidence(x.share.map { base * (0.5 + 0.5 * min(1, $0)) } ?? base)
        let id = STIXIdentifier.make("indicator", seed: ctx.seed + "\u{0}" + x.kind + "\u{0}" + x.values.joined(separator: "\u{1}"))
        var ext: [(String, JSONValue)] = [("campaign_accounts", .int(c.accounts.count))]
        if let use = x.use { ext += [("accounts", .int(use.accounts.count)), ("exchanges", .int(use.exchanges))] }
        append(sdo("indicator", id: id, created: ctx.created, modified: ctx.modified, [
            ("name", .string(x.name)),
            ("description", .string(x.why)),
            ("indicator_types", .array(x.types.map { .string($0) })),
            ("pattern", .string(x.pattern)), ("pattern_type", "stix"), ("pattern_version", "2.1"),
            ("valid_from", .string(first.rfc3339)), ("valid_until", .string(until.rfc3339)),
            ("confidence", .int(conf)),
        ], extensions: ext))
        summary.indicators[x.kind, default: 0] += 1
        relationship("indicates", from: id, to: ctx.id, created: ctx.created, modified: ctx.modified)
        if let use = x.use {
            appendSighting(of: id, seed: ctx.seed, created: ctx.created, modified: ctx.modified, accounts: use.accounts.count,
                           exchanges: use.exchanges, first: first, last: last)
        }
    }

    private func usage(_ use: ExchangeDigest.Use?, of c: Report.Campaign, what: String) -> String {
        guard let use else { return "Listed among the shared \(what) of distillation campaign \(c.id) (\(c.accounts.count) accounts, confidence \(c.confidence))." }
        return "\(use.accounts.count) of the \(c.accounts.count) accounts of distillation campaign \(c.id) (confidence \(c.confidence)) made \(use.exchanges) exchange(s) with the \(what) between \(Timestamp(milliseconds: use.first).rfc3339) and \(Timestamp(milliseconds: use.last).rfc3339)"
    }

    private func rareNote(_ value: ExchangeDigest.Value) -> String {
        guard let digest else { return "" }
        let n = digest.others(value)
        return n == 0 ? "; no other account used it." : "; \(n) other account(s) did."
    }

    /// Values from the log for one kind: used by enough of the campaign, by few enough others.
    private mutating func fromDigest(_ campaign: String, _ select: (ExchangeDigest.Value) -> Bool,
                                     limit: Int, minAccounts: Int) -> [(ExchangeDigest.Value, ExchangeDigest.Use)] {
        guard let digest, let uses = digest.uses[campaign] else { return [] }
        var out: [(ExchangeDigest.Value, ExchangeDigest.Use)] = []
        for (v, use) in uses where select(v) && use.accounts.count >= minAccounts {
            if settings.limits.preciseEnough(campaignUsers: use.accounts.count, others: digest.others(v)) {
                out.append((v, use))
            } else {
                summary.withheldCommon += 1
            }
        }
        out.sort { a, b in
            a.1.accounts.count != b.1.accounts.count ? a.1.accounts.count > b.1.accounts.count
                : a.1.exchanges != b.1.exchanges ? a.1.exchanges > b.1.exchanges : "\(a.0)" < "\(b.0)"
        }
        return Array(out.prefix(limit))
    }

    private mutating func addClearIndicators(_ ctx: CampaignContext) {
        let c = ctx.campaign, l = settings.limits
        let n = Double(max(c.accounts.count, 1))
        // From the log when it has the campaign's traffic; from the report otherwise.
        if let digest, digest.uses[c.id] != nil {
            for (v, use) in fromDigest(c.id, { if case .prefix = $0 { return true } else { return false } }, limit: l.maxClearValuesPerKind, minAccounts: l.minCampaignAccounts) {
                guard case .prefix(let p) = v else { continue }
                appendIndicator(prefixCandidate(p, why: usage(use, of: c, what: "network \(p)") + rareNote(v), use: use, share: Double(use.accounts.count) / n), ctx)
            }
            for (v, use) in fromDigest(c.id, { if case .asn = $0 { return true } else { return false } }, limit: l.maxClearValuesPerKind, minAccounts: l.minCampaignAccounts) {
                guard case .asn(let asn) = v else { continue }
                appendIndicator(asnCandidate(asn, why: usage(use, of: c, what: "autonomous system AS\(asn)") + rareNote(v), use: use, share: Double(use.accounts.count) / n), ctx)
            }
            let stacks = fromDigest(c.id, { if case .stack = $0 { return true } else { return false } }, limit: l.maxClearValuesPerKind, minAccounts: l.minCampaignAccounts)
            var covered = Set<String>()
            for (v, use) in stacks {
                guard case .stack(let ua, let tls) = v else { continue }
                covered.insert("ua\u{0}" + ua)
                covered.insert("tls\u{0}" + tls)
                appendIndicator(Candidate(
                    kind: "client-stack", values: [ua, tls],
                    pattern: "[\(PatternText.userAgentPath) = \(PatternText.quote(ua)) AND \(PatternText.tlsPath) = \(PatternText.quote(tls))]",
                    name: "Client stack of distillation campaign \(c.id)",
                    why: usage(use, of: c, what: "client stack (user agent \"\(ua)\" with TLS fingerprint \(tls))") + rareNote(v),
                    types: ["malicious-activity"], validDays: l.clientValidDays, use: use, share: Double(use.accounts.count) / n), ctx)
            }
            for (v, use) in fromDigest(c.id, { if case .tls = $0 { return true } else { return false } }, limit: l.maxClearValuesPerKind, minAccounts: l.minCampaignAccounts) {
                guard case .tls(let tls) = v, !covered.contains("tls\u{0}" + tls) else { continue }
                appendIndicator(tlsCandidate(tls, why: usage(use, of: c, what: "TLS fingerprint \(tls)") + rareNote(v), use: use, share: Double(use.accounts.count) / n), ctx)
            }
            for (v, use) in fromDigest(c.id, { if case .userAgent = $0 { return true } else { return false } }, limit: l.maxClearValuesPerKind, minAccounts: l.minCampaignAccounts) {
                guard case .userAgent(let ua) = v, !covered.contains("ua\u{0}" + ua) else { continue }
                appendIndicator(userAgentCandidate(ua, why: usage(use, of: c, what: "user agent \"\(ua)\"") + rareNote(v), use: use, share: Double(use.accounts.count) / n), ctx)
            }
            for (v, use) in fromDigest(c.id, { if case .systemPrompt = $0 { return true } else { return false } }, limit: l.maxClearValuesPerKind, minAccounts: l.minCampaignAccounts) {
                guard case .systemPrompt(let sha) = v else { continue }
                appendIndicator(fingerprintCandidate(.systemPrompt, sha, c: c, why: usage(use, of: c, what: "system prompt (shared as the SHA-256 of its text, never the text)") + rareNote(v), use: use, share: Double(use.accounts.count) / n), ctx)
            }
        } else {
            let i = c.indicators
            for text in i.ipPrefixes.prefix(l.maxClearValuesPerKind) {
                // A bare address, or a /32 or /128, is an exact IP: an identifier, shared keyed only.
                guard text.contains("/"), let p = IPPrefix(text), p.length < p.address.bytes.count * 8 else { continue }
                appendIndicator(prefixCandidate(p, why: usage(nil, of: c, what: "network prefixes"), use: nil, share: nil), ctx)
            }
            for asn in i.asns.prefix(l.maxClearValuesPerKind) {
                appendIndicator(asnCandidate(asn, why: usage(nil, of: c, what: "autonomous systems"), use: nil, share: nil), ctx)
            }
            for ua in i.userAgents.prefix(l.maxClearValuesPerKind) where !ua.isEmpty {
                appendIndicator(userAgentCandidate(ua, why: usage(nil, of: c, what: "user agents"), use: nil, share: nil), ctx)
            }
            for tls in i.tlsFingerprints.prefix(l.maxClearValuesPerKind) where !tls.isEmpty {
                appendIndicator(tlsCandidate(tls, why: usage(nil, of: c, what: "TLS fingerprints"), use: nil, share: nil), ctx)
            }
        }
        // Families and shapes come from the report only (the engine computes them).
        let i = c.indicators
        for sig in (i.systemPromptFamilies ?? []).prefix(l.maxClearValuesPerKind) {
            // A portable sketch (`fam1:`, MinHash values of the prompt's masked word set) is shared as it is,
            // so peers match variants of the family by similarity; an older opaque signature only as a hash.
            let sketch = sig.trimmingCharacters(in: .whitespaces).lowercased()
            if TextFamily.decode(sketch) != nil {
                appendIndicator(fingerprintCandidate(.systemPromptFamily, sketch, c: c,
                                                     why: usage(nil, of: c, what: "system-prompt families (a MinHash sketch of the prompt's masked word set, matched by similarity; no text is shared)"), use: nil, share: nil), ctx)
            } else {
                appendIndicator(fingerprintCandidate(.systemPromptFamily, Fingerprint.family(.systemPromptFamily, signature: sig), c: c,
                                                     why: usage(nil, of: c, what: "system-prompt families (hash of the family signature; no text is shared)"), use: nil, share: nil), ctx)
            }
        }
        for sig in (i.promptFamilies ?? []).prefix(l.maxClearValuesPerKind) {
            appendIndicator(fingerprintCandidate(.promptFamily, Fingerprint.family(.promptFamily, signature: sig), c: c,
                                                 why: usage(nil, of: c, what: "prompt families (hash of the family signature; no text is shared)"), use: nil, share: nil), ctx)
        }
        if (i.promptFamilies ?? []).isEmpty {
            for template in i.promptTemplates.prefix(l.maxClearValuesPerKind) where !template.isEmpty {
                appendIndicator(fingerprintCandidate(.promptTemplate, Fingerprint.family(.promptTemplate, signature: template), c: c,
                                                     why: usage(nil, of: c, what: "prompt templates (hash of the template; no text is shared)"), use: nil, share: nil), ctx)
            }
        }
        for shape in (i.requestShapes ?? []).prefix(l.maxClearValuesPerKind) where !shape.isEmpty {
            appendIndicator(fingerprintCandidate(.requestShape, shape, c: c, why: usage(nil, of: c, what: "request shapes") + " (\(shape))", use: nil, share: nil), ctx)
        }
    }

    private func prefixCandidate(_ p: IPPrefix, why: String, use: ExchangeDigest.Use?, share: Double?) -> Candidate {
        Candidate(kind: "network-prefix", values: [p.description],
                  pattern: "[\(p.address.isIPv4 ? "ipv4-addr" : "ipv6-addr"):value ISSUBSET \(PatternText.quote(p.description))]",
                  name: "Network used by a distillation campaign: \(p)", why: why, types: ["anonymization", "malicious-activity"],
                  validDays: settings.limits.networkValidDays, use: use, share: share)
    }

    private func asnCandidate(_ asn: Int, why: String, use: ExchangeDigest.Use?, share: Double?) -> Candidate {
        Candidate(kind: "autonomous-system", values: [String(asn)], pattern: "[autonomous-system:number = \(asn)]",
                  name: "Autonomous system used by a distillation campaign: AS\(asn)", why: why,
                  types: ["anonymization", "malicious-activity"], validDays: settings.limits.networkValidDays, use: use, share: share)
    }

    private func userAgentCandidate(_ ua: String, why: String, use: ExchangeDigest.Use?, share: Double?) -> Candidate {
        Candidate(kind: "user-agent", values: [ua], pattern: "[\(PatternText.userAgentPath) = \(PatternText.quote(ua))]",
                  name: "User agent of a distillation campaign", why: why, types: ["malicious-activity"],
                  validDays: settings.limits.clientValidDays, use: use, share: share)
    }

    private func tlsCandidate(_ tls: String, why: String, use: ExchangeDigest.Use?, share: Double?) -> Candidate {
        Candidate(kind: "tls-fingerprint", values: [tls], pattern: "[\(PatternText.tlsPath) = \(PatternText.quote(tls))]",
                  name: "TLS client fingerprint of a distillation campaign", why: why, types: ["malicious-activity"],
                  validDays: settings.limits.clientValidDays, use: use, share: share)
    }

    private func fingerprintCandidate(_ kind: FingerprintKind, _ value: String, c: Report.Campaign, why: String,
                                      use: ExchangeDigest.Use?, share: Double?) -> Candidate {
        let t = MoatExtension.fingerprintType
        return Candidate(kind: kind.rawValue, values: [value],
                         pattern: "[\(t):kind = \(PatternText.quote(kind.rawValue)) AND \(t):value = \(PatternText.quote(value))]",
                         name: "\(kind.phrase.prefix(1).uppercased() + kind.phrase.dropFirst()) of distillation campaign \(c.id)",
                         why: why, types: ["malicious-activity"],
                         validDays: kind == .requestShape ? settings.limits.clientValidDays : settings.limits.contentValidDays,
                         use: use, share: share)
    }

    // MARK: - Identifiers (keyed hashes)

    /// The campaign's identifiers by kind, most active first, with their use when known.
    private mutating func identifiers(_ c: Report.Campaign) -> [(IdentifierKind, [(String, ExchangeDigest.Use?, Double?)])] {
        let l = settings.limits
        let n = Double(max(c.accounts.count, 1))
        var out: [(IdentifierKind, [(String, ExchangeDigest.Use?, Double?)])] = []
        let activity = digest?.accountActivity[c.id] ?? [:]
        let accountIDs = c.accounts.sorted { (activity[$0]?.exchanges ?? 0, $1) > (activity[$1]?.exchanges ?? 0, $0) }
        out.append((.accountID, accountIDs.prefix(l.maxKeyedValuesPerKind).map { ($0, activity[$0], Double?.none) }))
        // Exact addresses: only those no ordinary account used (a school's NAT, a VPN exit).
        var ips: [(String, ExchangeDigest.Use?, Double?)] = []
        for (v, use) in fromDigest(c.id, { if case .ip = $0 { return true } else { return false } }, limit: l.maxKeyedValuesPerKind, minAccounts: 1) {
            guard case .ip(let ip) = v, digest?.others(v) == 0 else { continue }
            ips.append((ip.description, use, Double(use.accounts.count) / n))
        }
        out.append((.ipAddress, ips))
        // Sign-up identifiers: the report's, and the campaign accounts' in the accounts file.
        let members = Set(c.accounts)
        let flagged = Set(report.accounts.map(\.accountID))
        var payments: [String: Set<String>] = [:], domains: [String: Set<String>] = [:]
        var otherPayments: [String: Int] = [:], otherDomains: [String: Int] = [:]
        for a in accounts {
            let p = a.paymentFingerprint.flatMap { $0.isEmpty ? nil : $0 }
            let d = a.emailDomain.flatMap { $0.isEmpty ? nil : $0.lowercased() }
            if members.contains(a.accountID) {
                if let p { payments[p, default: []].insert(a.accountID) }
                if let d { domains[d, default: []].insert(a.accountID) }
            } else if !flagged.contains(a.accountID) {
                if let p { otherPayments[p, default: 0] += 1 }
                if let d { otherDomains[d, default: 0] += 1 }
            }
        }
        for p in c.indicators.paymentFingerprints where payments[p] == nil { payments[p] = [] }
        for d in c.indicators.emailDomains where domains[d.lowercased()] == nil { domains[d.lowercased()] = [] }
        func signup(_ values: [String: Set<String>], _ otherUse: [String: Int]) -> [(String, ExchangeDigest.Use?, Double?)] {
            var kept: [(String, ExchangeDigest.Use?, Double?)] = []
            for (v, holders) in values.sorted(by: { ($0.value.count, $1.key) > ($1.value.count, $0.key) }) {
                if !accounts.isEmpty, !l.preciseEnough(campaignUsers: holders.count, others: otherUse[v] ?? 0) {
                    summary.withheldCommon += 1
                    continue
                }
                kept.append((v, nil, holders.isEmpty ? nil : Double(holders.count) / n))
            }
            return Array(kept.prefix(l.maxKeyedValuesPerKind))
        }
        out.append((.paymentFingerprint, signup(payments, otherPayments)))
        out.append((.emailDomain, signup(domains, otherDomains)))
        return out
    }

    private mutating func addIdentifierIndicators(_ ctx: CampaignContext) {
        let c = ctx.campaign, l = settings.limits
        for (kind, values) in identifiers(c) where !values.isEmpty {
            guard let key = settings.key else {
                summary.withheldNoKey += values.count
                continue
            }
            var hashed: [(String, ExchangeDigest.Use?, Double?)] = []
            for (v, use, share) in values {
                guard let h = key.hash(kind, v) else { continue }
                hashed.append((h, use, share))
                append(.object([
                    ("type", .string(MoatExtension.keyedHashType)), ("spec_version", "2.1"),
                    ("id", .string(STIXIdentifier.make(MoatExtension.keyedHashType, seed: "\(key.keyID)\u{0}\(kind.rawValue)\u{0}\(h)"))),
                    ("kind", .string(kind.rawValue)), ("algorithm", .string(MoatExtension.algorithm)), ("key_id", .string(key.keyID)),
                    ("value", .string(h)),
                    ("object_marking_refs", .array(markings.map { .string($0) })),
                    ("extensions", MoatExtension.newSCO),
                ]))
            }
            summary.keyedValues += hashed.count
            let t = MoatExtension.keyedHashType
            for (chunkIndex, start) in stride(from: 0, to: hashed.count, by: l.maxValuesPerIndicator).enumerated() {
                let chunk = Array(hashed[start..<min(start + l.maxValuesPerIndicator, hashed.count)])
                let use = merged(chunk.compactMap { $0.1 })
                let shares = chunk.compactMap { $0.2 }
                let part = hashed.count > l.maxValuesPerIndicator ? " (part \(chunkIndex + 1))" : ""
                appendIndicator(Candidate(
                    kind: "keyed:" + kind.rawValue, values: [key.keyID] + chunk.map { $0.0 },
                    pattern: "[\(t):kind = \(PatternText.quote(kind.rawValue)) AND \(t):key_id = \(PatternText.quote(key.keyID)) AND \(PatternText.equalsAny("\(t):value", chunk.map { $0.0 }))]",
                    name: "Keyed \(kind.plural) of distillation campaign \(c.id)\(part)",
                    why: "\(chunk.count) \(kind.phrase)(s) used by the accounts of distillation campaign \(c.id) (\(c.accounts.count) accounts, confidence \(c.confidence)), as HMAC-SHA-256 under trust-group key \(key.keyID): only holders of that key can match them.",
                    types: kind == .ipAddress ? ["anonymization", "attribution"] : ["attribution"],
                    validDays: kind == .ipAddress ? l.networkValidDays : l.identityValidDays,
                    use: use, share: shares.isEmpty ? nil : shares.max()), ctx)
            }
            if settings.rawIdentifiers {
                let r = MoatExtension.identifierType
                for (chunkIndex, start) in stride(from: 0, to: values.count, by: l.maxValuesPerIndicator).enumerated() {
                    let chunk = values[start..<min(start + l.maxValuesPerIndicator, values.count)].map { $0.0 }
                    appendIndicator(Candidate(
                        kind: "raw:" + kind.rawValue, values: chunk + [String(chunkIndex)],
                        pattern: "[\(r):kind = \(PatternText.quote(kind.rawValue)) AND \(PatternText.equalsAny("\(r):value", chunk))]",
                        name: "\(kind.plural.prefix(1).uppercased() + kind.plural.dropFirst()) of distillation campaign \(c.id) (TLP:RED, in clear)",
                        why: "\(chunk.count) \(kind.phrase)(s) of distillation campaign \(c.id), in clear for the named recipients of this TLP:RED bundle.",
                        types: ["attribution"], validDays: l.identityValidDays, use: nil, share: nil), ctx)
                }
            }
        }
    }

    private func merged(_ uses: [ExchangeDigest.Use]) -> ExchangeDigest.Use? {
        guard !uses.isEmpty else { return nil }
        var out = ExchangeDigest.Use()
        for u in uses {
            out.accounts.formUnion(u.accounts)
            out.exchanges += u.exchanges
            out.first = min(out.first, u.first)
            out.last = max(out.last, u.last)
        }
        return out
    }

    // MARK: - Operators and redaction

    /// Campaigns tied to one operator: by the report's `operator`, or else by `related_campaigns`.
    /// Label → campaign ids; only groups of two or more campaigns (or with an operator id) count.
    private func operatorGroups() -> [(String, Set<String>)] {
        var groups: [String: Set<String>] = [:]
        var parent: [String: String] = [:]
        let ids = Set(report.campaigns.map(\.id))
        func find(_ x: String) -> String {
            var r = x
            while let p = parent[r], p != r { r = p }
            return r
        }
        for c in report.campaigns where c.operatorID == nil {
            parent[c.id] = parent[c.id] ?? c.id
            for r in c.relatedCampaigns ?? [] where ids.contains(r) {
                parent[r] = parent[r] ?? r
                let a = find(c.id), b = find(r)
                if a != b { parent[max(a, b)] = min(a, b) }
            }
        }
        for c in report.campaigns {
            if let op = c.operatorID { groups[op, default: []].insert(c.id) }
        }
        var byRoot: [String: Set<String>] = [:]
        for c in report.campaigns where c.operatorID == nil { byRoot[find(c.id), default: []].insert(c.id) }
        for (root, members) in byRoot where members.count >= 2 { groups["of \(root)", default: []].formUnion(members) }
        return groups.sorted { $0.key < $1.key }
    }

    private func makeRedactor() -> Redactor {
        var r = Redactor(key: settings.key)
        guard !settings.rawIdentifiers else { return r }
        for c in report.campaigns {
            for a in c.accounts { r.add(a, as: .accountID) }
            for p in c.indicators.paymentFingerprints { r.add(p, as: .paymentFingerprint) }
            for d in c.indicators.emailDomains { r.add(d, as: .emailDomain) }
            for t in c.indicators.promptTemplates { r.addText(t, label: "prompt template") }
            for text in c.indicators.ipPrefixes where !text.contains("/") { r.add(text, as: .ipAddress) }
        }
        for a in report.accounts { r.add(a.accountID, as: .accountID) }
        for a in accounts {
            r.add(a.accountID, as: .accountID)
            if let p = a.paymentFingerprint { r.add(p, as: .paymentFingerprint) }
            if let d = a.emailDomain { r.add(d, as: .emailDomain) }
            if let o = a.orgID { r.add(o, as: .accountID) }
        }
        return r
    }
}
