/// Reads the accounts file (contract section 2). Blank lines are skipped; with `skipInvalid`, invalid
/// lines are skipped too, otherwise the first one throws.
public func readAccounts(path: String, skipInvalid: Bool = false) throws(ContractError) -> [Account] {
    let lines = try LineReader(path: path)
    var accounts: [Account] = []
    while let line = try lines.nextLine() {
        if line.isBlankLine { continue }
        do {
            accounts.append(try Account.decode(line: line, file: lines.displayName, lineNumber: lines.lineNumber))
        } catch {
            if !skipInvalid { throw error }
        }
    }
    return accounts
}

/// Reads `labels.jsonl` (contract section 3): one `{"account_id": ..., "campaign": ...}` per line.
public func readLabels(path: String) throws(ContractError) -> [CampaignLabel] {
    let lines = try LineReader(path: path)
    var labels: [CampaignLabel] = []
    while let line = try lines.nextLine() {
        if line.isBlankLine { continue }
        labels.append(try CampaignLabel.decode(line: line, file: lines.displayName, lineNumber: lines.lineNumber))
    }
    return labels
}
