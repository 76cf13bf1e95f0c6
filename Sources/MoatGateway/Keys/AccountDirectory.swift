import MoatCore
import Synchronization

/// What the provider knows about each account (program, verification, org), for tiers and detection.
final class AccountDirectory: Sendable {
    private struct State {
        var byID: [String: Account] = [:]
        /// The store's write mark of the newest account read (`MoatStore.accounts(writtenAfter:)`).
        var mark: Int64 = 0
        /// Bumped on every change, so cached derivations (a key's tier) know to look again.
        var version = 0
    }

    private let state: Mutex<State>

    init(_ list: [Account], mark: Int64 = 0) {
        var s = State(mark: mark)
        for a in list { s.byID[a.accountID] = a }
        state = Mutex(s)
    }

    func identity(_ id: String) -> Account? { state.withLock { $0.byID[id] } }
    var mark: Int64 { state.withLock { $0.mark } }
    var version: Int { state.withLock { $0.version } }

    /// The account and the directory's version, read together.
    func identity(_ id: String, version: inout Int) -> Account? {
        state.withLock { s in
            version = s.version
            return s.byID[id]
        }
    }

    /// Adds or replaces accounts read from the store up to `mark`.
    func add(_ list: [Account], mark: Int64) {
        state.withLock { s in
            for a in list { s.byID[a.accountID] = a }
            s.mark = max(s.mark, mark)
            s.version += 1
        }
    }
}
