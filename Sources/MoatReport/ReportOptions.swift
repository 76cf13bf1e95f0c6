import MoatCore

/// Every limit and choice of the campaign report, in one place.
///
/// The limits bound the memory of the aggregation and the size of the HTML whatever the log holds:
/// the report aggregates while it streams and never keeps one row per exchange.
public struct ReportOptions: Sendable {
    /// Distinct models tracked by name; models beyond it are counted together as "other models".
    public var maxModels = 16
    /// Distinct values (network prefixes, ASNs, client stacks, countries) tallied per campaign and kind;
    /// exchanges with values beyond it are counted as "other values".
    public var maxValuesPerKind = 4_096
    /// (value, account) pairs remembered per campaign and kind, to count the distinct accounts behind each
    /// value. Beyond it, account counts are lower bounds (and the report says so).
    public var maxAccountValuePairs = 2_000_000
    /// Distinct `countermeasure`, `outcome` and `status` values counted per group; the rest are "other".
    public var maxCategoryValues = 32
    /// Rows shown in each infrastructure table.
    public var infrastructureRows = 12
    /// Accounts listed per campaign in the HTML, the most leaked first; the rest are counted (all of them are
    /// in the report JSON). About 0.8 KB of HTML each.
    public var maxAccountRows = 10_000
    /// Longest reasons text per account in the accounts table.
    public var maxReasonsLength = 240
    /// Rows of each accounts table that are printed (the PDF); the HTML keeps them all.
    public var printedAccountRows = 60
    /// At most this many time buckets per chart: a longer window uses wider buckets.
    public var maxTimeBuckets = 400
    /// At most this many day buckets in the sign-up chart: older sign-ups are gathered in the first bucket.
    public var maxSignupDays = 120
    /// Longest string from the input shown as is; longer ones are cut with an ellipsis.
    public var maxValueLength = 120
    /// Longest evidence sentence or reason shown.
    public var maxSentenceLength = 1_000
    /// Names of the input files, shown in the report.
    public var sources = Sources()
    /// When the report was generated (from the caller: this module never reads the clock).
    public var generatedAt: Timestamp?

    public struct Sources: Sendable {
        public var report: String?
        public var exchanges: String?
        public var accounts: String?
        public var exchangesBytes: Int64?

        public init(report: String? = nil, exchanges: String? = nil, accounts: String? = nil, exchangesBytes: Int64? = nil) {
            self.report = report
            self.exchanges = exchanges
            self.accounts = accounts
            self.exchangesBytes = exchangesBytes
        }
    }

    public init() {}
}
