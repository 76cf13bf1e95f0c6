import MoatCore

extension ReportDocument {
    /// The appendix: how verdicts are reached and what each figure means. Kept general: the engine improves,
    /// the meaning of the figures does not.
    func methodology(_ page: inout HTMLBuffer) {
        let releaseText: String
        if releases.isEmpty {
            releaseText = "In this log every model appears on its first day, so no release is marked."
        } else {
            releaseText = "In this log: " + releases.map { "\(Format.cut($0.model.name, 60)) first appears at \(Format.time($0.model.firstMs))" }.joined(separator: "; ") + "."
        }
        page.add("""
            <section class="appendix" id="methodology" aria-labelledby="methodology-h">
            <h2 id="methodology-h">Methodology</h2>
            <h3>How verdicts are reached</h3>
            <ol class="method">
            <li><strong>Event time.</strong> Moat's detection engine replays the exchange log in the order the requests \
            arrived (by their timestamps, with a short window that tolerates a log merged from several gateway replicas). \
            A verdict reached at a moment uses only exchanges up to that moment, so the same engine gives the same verdicts \
            replaying a log (<code>moat detect</code>) as it gives live in the gateway (<code>moat serve</code>).</li>
            <li><strong>Each account on its own.</strong> For every account the engine keeps a bounded behavioural profile: \
            volume and tokens, how often it asks for the model's reasoning, extended thinking or tools, which capabilities \
            its prompts target, its hours of activity and their regularity, the models it uses and how quickly it moved to a \
            new one, its age and sign-up program, and the spread of its network addresses. From the profile comes an \
            extraction score between 0 and 1. Each account alone usually looks like an ordinary customer.</li>
            <li><strong>Across accounts.</strong> Accounts are linked by what they share: <em>hard</em> evidence of common \
            control (network addresses and hosting prefixes, payment instruments, sign-up e-mail domains, bursts of \
            sign-ups) and <em>soft</em> evidence (client software, system prompts, prompt templates and near-duplicate \
            prompt families, request shapes, activity in the same minutes). Each shared value weighs less the more \
            accounts hold it, so a big network provider or a popular tool links nobody. Soft evidence alone never joins \
            accounts: unrelated customers share tools, benchmarks and office hours.</li>
            <li><strong>Campaigns.</strong> A campaign is a group of accounts linked by enough evidence whose members \
            also look like extraction. Coordination alone (a university class, an enterprise behind one proxy and one \
            card, a SaaS backend) does not make a campaign, and neither does extraction-like behaviour alone (power users, \
            evaluation harnesses). Accounts of a campaign get the verdict <code>campaign</code>; an account that looks \
            like extraction on its own strongly enough, with no campaign, gets <code>suspicious</code>.</li>
            <li><strong>Confidence and evidence.</strong> Each campaign carries a confidence between 0 and 1 (higher \
            with more accounts, higher extraction scores and more kinds of shared evidence), its indicators, and \
            sentences that an analyst can check against the log. Each account carries the reasons for its verdict. \
            The detection report (JSON, Moat's data contract section 4) is the record; this document shows it and \
            recomputes the figures below from the log.</li>
            </ol>
            <h3>What each figure means</h3>
            <ul class="method">
            <li><strong>Exchanges, accounts, window</strong>: counted from the exchange log given to this report \
            (every valid line; an exchange is one request and its answer). The campaign's exchange count in the \
            detection report can differ when the report was built from another log.</li>
            <li><strong>Detected</strong> (<code>detected_at</code>): the moment, in the log's time, at which the \
            engine first reported the campaign. <strong>Flagged at</strong> (<code>flagged_at</code>): the timestamp of \
            the exchange at which an account was first flagged. <strong>Time to detect</strong>: from the campaign's \
            first exchange to its detection.</li>
            <li><strong>Served before flagging</strong> (leakage): a campaign's exchanges whose timestamp is before \
            their own account's <code>flagged_at</code> (all of them for an account never flagged), with their output \
            tokens (reasoning included). This is what the operator got out before enforcement could start; exchanges \
            after it could have been refused by the gateway.</li>
            <li><strong>Timeline</strong>: the campaign's exchanges per hour; for long windows each bucket spans \
            several hours and shows the mean per hour. The line counts the distinct campaign accounts active in an \
            hour (in the busiest hour of a wider bucket). The lower panel counts accounts by the bucket of their \
            <code>flagged_at</code>.</li>
            <li><strong>Sign-up waves</strong>: the campaign's accounts by the UTC day of their <code>created_at</code> \
            in the accounts file, stacked by sign-up program; the text gives the campaign's share of all sign-ups on \
            its busiest day.</li>
            <li><strong>Model pivot</strong>: the share of the campaign's exchanges on each model per bucket. A \
            model's release is not in the log, so it is inferred: <em>the first exchange on a model anywhere in the \
            log is taken as its release</em>, and marked when it falls after the log's first day (a model used on the \
            first day was already released). The text compares how much of the campaign's traffic, and of all other \
            traffic, moved to each newly seen model in the 24 hours after its release. \(releaseText)</li>
            <li><strong>Capability mix</strong>: the share of the campaign's exchanges by the capability each prompt \
            targets (agentic work, coding, reasoning, planning, other), as classified by the detection engine; it comes \
            from the detection report.</li>
            <li><strong>Infrastructure</strong>: from the log's client fields. A network prefix is the /24 of an IPv4 \
            address or the /48 of an IPv6 one; a client stack is the user agent with the TLS fingerprint. \
            "Accounts" is the number of the campaign's accounts that used a value at least once, "share" the share \
            of the campaign's exchanges. Payment clusters and e-mail domains come from the accounts file, with the \
            number of accounts <em>outside</em> the campaign that share the value (a value shared with many ordinary \
            customers is weak evidence). A tag marks values the detection report lists as indicators.</li>
            <li><strong>Countermeasures</strong> (when the log was written by Moat's gateway): each exchange's \
            <code>status</code> (429 throttled, 403 refused) and <code>countermeasure</code> (e.g. reasoning withheld) \
            fields, counted per hour and in all.</li>
            </ul>
            <h3>Limits</h3>
            <ul class="method">
            <li>The figures are aggregated while the log streams; no exchange is kept. Per campaign, at most \
            \(Format.count(options.maxValuesPerKind)) distinct values of each kind are itemised (further ones are \
            counted as "not itemised") and distinct accounts per value are counted exactly up to \
            \(Format.count(options.maxAccountValuePairs)) account–value pairs (beyond, counts are marked as lower \
            bounds). At most \(options.maxModels) models are named; further ones are counted as "other models".</li>
            <li>Charts use at most \(options.maxTimeBuckets) time buckets; a wider window uses wider buckets.</li>
            <li>Texts from the log (account ids, user agents, templates) are shown escaped and shortened to \
            \(options.maxValueLength) characters; the report JSON and the log have them in full.</li>
            <li>A verdict is evidence for a human decision, not a finding of fact: the accounts, reasons and indicators \
            here are what an analyst should check against the provider's own records.</li>
            </ul>
            </section>

            """)
    }
}
