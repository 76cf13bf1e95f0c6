import Foundation

/// Takes identifiers out of free text before it leaves: evidence sentences name the most shared payment
/// fingerprint, an IP address or an account, and the bundle must not.
///
/// Known values (the accounts, payment fingerprints, e-mail domains and addresses of the inputs) are
/// replaced wherever they appear as a word; besides, any word that reads as an IP address (not a
/// prefix) or an e-mail address is replaced even if nobody listed it. A replaced identifier becomes its
/// keyed hash when there is a key (`[payment fingerprint hmac:3f9a01c2d4e5]`), so a peer holding the key
/// can still follow the evidence, and `[payment fingerprint withheld]` when there is none.
public struct Redactor: Sendable {
    private var kinds: [String: IdentifierKind] = [:]
    /// Values with white space in them (prompt templates), replaced as substrings, longest first.
    private var phrases: [(String, String)] = []
    let key: TrustGroupKey?

    public init(key: TrustGroupKey?) { self.key = key }

    public mutating func add(_ value: String, as kind: IdentifierKind) {
        let v = value.trimmingCharacters(in: .whitespaces)
        guard v.count >= 2 else { return }
        kinds[v] = kind
        if kind == .emailDomain || kind == .emailAddress { kinds[v.lowercased()] = kind }
    }

    /// A text (a prompt template) that must not appear: replaced by a fingerprint of it.
    public mutating func addText(_ text: String, label: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard t.count >= 4 else { return }
        phrases.append((t, "[\(label) fp:\(Fingerprint.sha256(t).prefix(12))]"))
        phrases.sort { $0.0.count > $1.0.count }
    }

    func replacement(_ kind: IdentifierKind, _ value: String) -> String {
        if let key, let h = key.hash(kind, value) { return "[\(kind.phrase) hmac:\(h.prefix(12))]" }
        return "[\(kind.phrase) withheld]"
    }

    /// `text` with every identifier replaced.
    public func redact(_ text: String) -> String {
        var s = text
        for (phrase, label) in phrases where s.contains(phrase) { s = s.replacingOccurrences(of: phrase, with: label) }
        var out = ""
        out.reserveCapacity(s.utf8.count)
        var word = ""
        func flush() {
            guard !word.isEmpty else { return }
            // Trailing punctuation belongs to the sentence, not to the value.
            var core = Substring(word)
            var tail = ""
            while let last = core.last, ".,;:!?)]}\"'".contains(last) {
                tail = String(last) + tail
                core = core.dropLast()
            }
            var head = ""
            while let first = core.first, "([{\"'".contains(first) {
                head.append(first)
                core = core.dropFirst()
            }
            let c = String(core)
            if let kind = kinds[c] ?? kinds[c.lowercased()] {
                out += head + replacement(kind, c) + tail
            } else if !c.contains("/"), IPAddress(c) != nil {
                out += head + replacement(.ipAddress, c) + tail
            } else if Redactor.looksLikeEmail(c) {
                out += head + replacement(.emailAddress, c) + tail
            } else {
                out += word
            }
            word = ""
        }
        for ch in s {
            if ch == " " || ch == "\n" || ch == "\t" || ch == "," {
                flush()
                out.append(ch)
            } else {
                word.append(ch)
            }
        }
        flush()
        return out
    }

    static func looksLikeEmail(_ s: String) -> Bool {
        guard let at = s.firstIndex(of: "@"), at != s.startIndex else { return false }
        let domain = s[s.index(after: at)...]
        return domain.contains(".") && !domain.hasPrefix(".") && !domain.hasSuffix(".") && !domain.contains("@")
    }
}
