import MoatCore
/// The network a request comes from: an address with its AS and country.
struct NetworkSource: Sendable {
    var ip: String
    var asn: Int
    var asnOrg: String
    var country: String
}

/// An autonomous system and the /16 blocks its addresses come from.
struct AutonomousSystem: Sendable {
    var asn: Int
    var org: String
    var country: String
    var blocks: [(UInt8, UInt8)]
    var residential: Bool

    func address(_ rng: inout SimRandom) -> String {
        let (a, b) = rng.pick(blocks)
        return "\(a).\(b).\(rng.int(0...255)).\(rng.int(1...254))"
    }

    /// An address inside a fixed /24 (`prefixSeed` picks which).
    func address(inPrefix prefixSeed: UInt64, host: Int) -> String {
        let (a, b) = blocks[Int(prefixSeed % UInt64(blocks.count))]
        let c = Int((prefixSeed >> 8) % 256)
        return "\(a).\(b).\(c).\(1 + host % 254)"
    }

    func source(_ ip: String) -> NetworkSource { NetworkSource(ip: ip, asn: asn, asnOrg: org, country: country) }
}

enum Networks {
    static let consumerISPs: [(AutonomousSystem, Double)] = [
        (AutonomousSystem(asn: 7922, org: "COMCAST-7922", country: "US", blocks: [(73, 12), (73, 140), (98, 207), (24, 6)], residential: true), 14),
        (AutonomousSystem(asn: 7018, org: "ATT-INTERNET4", country: "US", blocks: [(99, 3), (107, 77), (12, 145)], residential: true), 9),
        (AutonomousSystem(asn: 20115, org: "CHARTER-20115", country: "US", blocks: [(47, 32), (71, 84), (97, 92)], residential: true), 7),
        (AutonomousSystem(asn: 701, org: "UUNET (Verizon)", country: "US", blocks: [(71, 170), (108, 6)], residential: true), 6),
        (AutonomousSystem(asn: 3320, org: "Deutsche Telekom AG", country: "DE", blocks: [(87, 150), (91, 54), (79, 207)], residential: true), 6),
        (AutonomousSystem(asn: 3215, org: "Orange S.A.", country: "FR", blocks: [(90, 12), (86, 246), (2, 6)], residential: true), 4),
        (AutonomousSystem(asn: 2856, org: "British Telecommunications PLC", country: "GB", blocks: [(86, 128), (81, 156)], residential: true), 4),
        (AutonomousSystem(asn: 4713, org: "NTT Communications Corporation", country: "JP", blocks: [(153, 201), (60, 71)], residential: true), 4),
        (AutonomousSystem(asn: 55836, org: "Reliance Jio Infocomm Limited", country: "IN", blocks: [(49, 36), (157, 32), (106, 193)], residential: true), 8),
        (AutonomousSystem(asn: 27699, org: "TELEFONICA BRASIL S.A", country: "BR", blocks: [(177, 94), (189, 100)], residential: true), 4),
        (AutonomousSystem(asn: 812, org: "ROGERS-COMMUNICATIONS", country: "CA", blocks: [(99, 224), (174, 112)], residential: true), 3),
        (AutonomousSystem(asn: 4766, org: "Korea Telecom", country: "KR", blocks: [(121, 134), (211, 36)], residential: true), 3),
        (AutonomousSystem(asn: 1221, org: "Telstra Corporation", country: "AU", blocks: [(101, 160), (120, 152)], residential: true), 2),
        (AutonomousSystem(asn: 21928, org: "T-MOBILE-AS21928", country: "US", blocks: [(172, 56), (172, 58)], residential: true), 5),
        (AutonomousSystem(asn: 12322, org: "Free SAS", country: "FR", blocks: [(78, 192), (88, 160)], residential: true), 2),
        (AutonomousSystem(asn: 9121, org: "Turk Telekom", country: "TR", blocks: [(88, 230), (78, 180)], residential: true), 2),
    ]

    static let clouds: [(AutonomousSystem, Double)] = [
        (AutonomousSystem(asn: 16509, org: "AMAZON-02", country: "US", blocks: [(3, 80), (3, 91), (18, 204), (34, 224), (44, 192), (52, 14), (54, 160)], residential: false), 40),
        (AutonomousSystem(asn: 15169, org: "GOOGLE", country: "US", blocks: [(34, 66), (34, 118), (35, 188)], residential: false), 20),
        (AutonomousSystem(asn: 8075, org: "MICROSOFT-CORP-MSN-AS-BLOCK", country: "US", blocks: [(20, 42), (20, 106), (40, 76), (52, 170)], residential: false), 20),
        (AutonomousSystem(asn: 14061, org: "DIGITALOCEAN-ASN", country: "US", blocks: [(137, 184), (159, 89), (164, 90)], residential: false), 8),
        (AutonomousSystem(asn: 24940, org: "Hetzner Online GmbH", country: "DE", blocks: [(5, 9), (88, 198), (135, 181)], residential: false), 6),
        (AutonomousSystem(asn: 16276, org: "OVH SAS", country: "FR", blocks: [(51, 38), (54, 36), (145, 239)], residential: false), 6),
    ]

    /// Small hosting providers, used by the chain-of-thought harvest.
    static let smallHosts: [AutonomousSystem] = [
        AutonomousSystem(asn: 45102, org: "Alibaba (US) Technology Co., Ltd.", country: "SG", blocks: [(47, 74), (47, 88), (8, 219)], residential: false),
        AutonomousSystem(asn: 132203, org: "Tencent Building, Kejizhongyi Avenue", country: "SG", blocks: [(43, 134), (43, 156), (129, 226)], residential: false),
        AutonomousSystem(asn: 63949, org: "Akamai Connected Cloud", country: "SG", blocks: [(139, 162), (172, 104)], residential: false),
    ]

    /// Small hosting providers of the low-and-slow campaign: some named like hosting companies, some not.
    static let smallHostingProviders: [AutonomousSystem] = [
        AutonomousSystem(asn: 44477, org: "Stark Industries Solutions Ltd", country: "GB", blocks: [(45, 134), (94, 156)], residential: false),
        AutonomousSystem(asn: 200019, org: "PQ Hosting Plus S.R.L.", country: "MD", blocks: [(77, 105), (185, 105)], residential: false),
        AutonomousSystem(asn: 210644, org: "Serverion B.V.", country: "NL", blocks: [(77, 221), (89, 110)], residential: false),
        AutonomousSystem(asn: 62240, org: "Cloud Innovation Ltd", country: "SC", blocks: [(5, 253), (91, 199)], residential: false),
        AutonomousSystem(asn: 57043, org: "HOSTKEY B.V.", country: "NL", blocks: [(5, 39), (193, 109)], residential: false),
    ]

    static let university = AutonomousSystem(asn: 1742, org: "STATE-UNIVERSITY-NET", country: "US", blocks: [(128, 103)], residential: false)
    static let enterpriseProxy = AutonomousSystem(asn: 31898, org: "ORACLE-BMC-31898", country: "DE", blocks: [(130, 61)], residential: false)

    static func consumer(_ rng: inout SimRandom) -> AutonomousSystem { rng.pickWeighted(consumerISPs) }
    static func cloud(_ rng: inout SimRandom) -> AutonomousSystem { rng.pickWeighted(clouds) }

    /// Hour offset from UTC typical of a country, for diurnal cycles.
    static func timezone(country: String, _ rng: inout SimRandom) -> Int {
        switch country {
        case "US": return rng.pickWeighted([(-5, 0.5), (-6, 0.2), (-7, 0.1), (-8, 0.2)])
        case "CA": return -5
        case "BR": return -3
        case "GB": return 0
        case "DE", "FR": return 1
        case "TR": return 3
        case "IN": return 5
        case "SG": return 8
        case "JP", "KR": return 9
        case "AU": return 10
        default: return 0
        }
    }
}

/// The software a client calls with: user agent, TLS fingerprint, and the API it speaks.
struct ClientStack: Sendable {
    var userAgent: String
    var tlsFingerprint: String
    var endpoint: String
}

enum Clients {
    // JA4-style fingerprints of common TLS stacks.
    static let tlsPython = "t13d1812h2_e8a523a41297_7c8a9a3b14c2"
    static let tlsNode = "t13d1713h2_5b57614c22b0_3d5424432f57"
    static let tlsGo = "t13d1311h2_f57a46bbacb6_ab7e3b40a677"
    static let tlsCurl = "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6"
    static let tlsJava = "t13d2011h2_9ed1a4f72e6c_7ba3ca9da7ba"
    static let tlsChromeImpersonation = "t13d1517h2_8daaf6152771_b0da82dd1658"

    static func ordinary(_ rng: inout SimRandom) -> ClientStack {
        let kind = rng.pickWeighted([(0, 34.0), (1, 26.0), (2, 14.0), (3, 8.0), (4, 5.0), (5, 6.0), (6, 4.0), (7, 3.0), (8, 3.0)])
        switch kind {
        case 0: return ClientStack(userAgent: "OpenAI/Python 1.\(rng.int(30...58)).\(rng.int(0...2))", tlsFingerprint: tlsPython, endpoint: "chat.completions")
        case 1: return ClientStack(userAgent: "Anthropic/Python 0.\(rng.int(30...49)).\(rng.int(0...1))", tlsFingerprint: tlsPython, endpoint: "messages")
        case 2: return ClientStack(userAgent: "OpenAI/JS 4.\(rng.int(50...77)).\(rng.int(0...3))", tlsFingerprint: tlsNode, endpoint: "chat.completions")
        case 3: return ClientStack(userAgent: "Anthropic/JS 0.\(rng.int(24...39)).0", tlsFingerprint: tlsNode, endpoint: "messages")
        case 4: return ClientStack(userAgent: "curl/8.\(rng.int(2...9)).\(rng.int(0...1))", tlsFingerprint: tlsCurl, endpoint: rng.chance(0.5) ? "messages" : "chat.completions")
        case 5: return ClientStack(userAgent: "langchain-python/0.\(rng.int(1...3)).\(rng.int(0...20))", tlsFingerprint: tlsPython, endpoint: "chat.completions")
        case 6: return ClientStack(userAgent: "Go-http-client/2.0", tlsFingerprint: tlsGo, endpoint: "chat.completions")
        case 7: return ClientStack(userAgent: "okhttp/4.12.0", tlsFingerprint: tlsJava, endpoint: "chat.completions")
        default: return ClientStack(userAgent: "python-httpx/0.27.\(rng.int(0...2))", tlsFingerprint: tlsPython, endpoint: "chat.completions")
        }
    }

    static let codingAgent = ClientStack(userAgent: "forge-cli/2.4.1 (external, cli)", tlsFingerprint: tlsNode, endpoint: "messages")
}
