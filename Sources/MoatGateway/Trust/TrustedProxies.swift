/// Who may speak for the client: the configured proxies. Requests that reach Moat through one of them
/// carry the client's address in `X-Forwarded-For` and edge enrichment in headers; from any other peer
/// those headers are the client's own claims and are ignored.
public struct TrustedProxies: Sendable {
    public let ranges: [CIDR]

    public init(_ ranges: [CIDR]) { self.ranges = ranges }

    /// Parses a config list; entries that are not CIDRs are dropped (the config's validation reports them).
    public init(config: [String]) { ranges = config.compactMap(CIDR.init) }

    public var isEmpty: Bool { ranges.isEmpty }

    public func contains(_ address: IPAddress) -> Bool {
        for r in ranges where r.contains(address) { return true }
        return false
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy; then `X-Forwarded-For` read
    /// from the right, skipping trusted hops, up to the first untrusted address. Values that are not IP
    /// addresses are ignored. `forwardedFor` are the header's values in order (a request may repeat it).
    public func clientAddress(peer: IPAddress?, forwardedFor: [String]) -> IPAddress? {
        guard let peer, !forwardedFor.isEmpty, contains(peer) else { return peer }
        var client = peer
        for value in forwardedFor.reversed() {
            for entry in value.split(separator: ",", omittingEmptySubsequences: true).reversed() {
                guard let address = IPAddress(entry, allowPort: true) else { continue }
                client = address
                if !contains(address) { return address }
            }
        }
        return client
    }
}
