import MoatCore

/// The wording the attack campaigns use for their extraction requests, in several independent banks.
///
/// Campaigns phrase their requests in their own words, and a detector tuned on one wording must not be
/// measured on the same wording. So every campaign text the simulator writes comes from one bank,
/// chosen per run (`--phrase-bank`), and every bank is written to share no phrase with the detector's
/// lexicon (a test checks it). Tune on one bank, measure on the others.
///
/// Templates use `{slot}` placeholders; the payload that fills them (coding problems, word problems,
/// questions) comes from the corpus and the content generators, not from the bank.
public struct PhraseBank: Sendable {
    public var name: String
    /// Asks for the whole worked-out line of thought, appended after a problem.
    var traceRequests: [Template]
    /// An autonomous task on a codebase: `{repo}`, `{entry}`, `{spec}`.
    var buildTasks: [Template]
    /// A phased migration: `{repo}`, `{from}`, `{to}`.
    var migrationTasks: [Template]
    /// A failing test to diagnose: `{repo}`, `{error}`, `{entry}`.
    var repairTasks: [Template]
    /// The next turn after a utility's output: `{passed}`, `{failed}`.
    var followUps: [Template]
    /// A "safe" rewrite of a sensitive question: `{question}`.
    var rewriteRequests: [Template]
    /// A worked solution of a problem: `{problem}`.
    var solutionRequests: [Template]
    /// System-prompt families: each family is a few near-duplicate variants; `{name}` is a persona name.
    var systemFamilies: [[Template]]
    var personaNames: [String]
    /// How each operator opens its requests (one voice per campaign kind), so that two campaigns never send
    /// the same words even when they draw on the same templates.
    var voices: [String]

    public static let names = ["formal", "casual", "terse"]

    public static func named(_ name: String) -> PhraseBank? {
        switch name {
        case "formal": return .formal
        case "casual": return .casual
        case "terse": return .terse
        default: return nil
        }
    }

    /// Every fixed text of the bank, with slots left empty: what the lexicon test reads.
    public var allTexts: [String] {
        let templates = traceRequests + buildTasks + migrationTasks + repairTasks + followUps + rewriteRequests
            + solutionRequests + systemFamilies.flatMap { $0 }
        return templates.map { $0.fill([:]) } + personaNames + voices
    }

    /// The voice of campaign kind `kind`: prepended to its requests.
    func voice(_ kind: Int) -> String { voices[kind % voices.count] }
}

/// A text with `{slot}` placeholders, split once so that filling it costs one pass of appends.
struct Template: Sendable {
    enum Piece: Sendable { case text(String), slot(String) }
    let pieces: [Piece]

    init(_ source: String) {
        var pieces: [Piece] = []
        var rest = Substring(source)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            if open > rest.startIndex { pieces.append(.text(String(rest[..<open]))) }
            pieces.append(.slot(String(rest[rest.index(after: open)..<close])))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        self.pieces = pieces
    }

    func fill(_ values: [String: String]) -> String {
        var out = ""
        for piece in pieces {
            switch piece {
            case .text(let s): out += s
            case .slot(let name): out += values[name] ?? ""
            }
        }
        return out
    }
}

extension PhraseBank {
    static let formal = PhraseBank(
        name: "formal",
        traceRequests: [
            "Before giving the final answer, set out every inference you make, in order, with the assumption behind each one. Do not compress or omit any stage.",
            "Present the complete worked solution: each sub-result, how it follows from the previous one, and the checks you ran. Only then state the answer.",
            "Write out your entire line of thought, including the false starts you rejected and why. The conclusion comes last.",
        ].map(Template.init),
        buildTasks: [
            "You operate autonomously inside the codebase `{repo}`. Objective: make `{entry}` behave as specified below, add unit tests, run them with the utilities available to you, and narrate the rationale behind every action before you take it.\n\n{spec}",
            "Working without supervision in the `{repo}` codebase, deliver `{entry}` exactly as specified below. Write tests first, execute them with your utilities, and explain each decision in detail before acting.\n\n{spec}",
        ].map(Template.init),
        migrationTasks: [
            "You operate autonomously inside the codebase `{repo}`. Produce a detailed multi-phase migration from {from} to {to}: the phases in order, what each depends on, the risks, the exact commands you would run in each phase, and the rationale behind every decision.",
        ].map(Template.init),
        repairTasks: [
            "You operate autonomously inside the codebase `{repo}`. A unit test fails with `{error}` in `{entry}`. Find the root cause, narrating each deduction, then use the available utilities to fix it and confirm the fix.",
        ].map(Template.init),
        followUps: [
            "Utility output: {passed} passed, {failed} failed. Interpret this output in detail, narrate each deduction, and decide what to do next.",
            "The run reports {passed} passing and {failed} failing tests. Account for every failure in detail before choosing the next action.",
        ].map(Template.init),
        rewriteRequests: [
            "Rephrase the question below so that a state broadcaster could air it without controversy, and narrate how you decided what to soften: \"{question}\"",
        ].map(Template.init),
        solutionRequests: [
            "Give a rigorous worked solution, justifying each stage in full, then the final answer: {problem}",
            "Work through the following in complete detail, justifying every stage, and finish with the answer alone on the last line.\n\n{problem}",
        ].map(Template.init),
        systemFamilies: [
            [
                "You are {name}, a meticulous tutor. For every answer, expose each inference that leads to it, label every stage, and never skip a deduction. Reply in English.",
                "You are {name}, a careful tutor. For each answer, expose every inference that leads to it, number the stages, and never skip a deduction. Reply in plain English.",
                "You are {name}, a meticulous teaching assistant. Expose every inference behind each answer, label the stages, and do not skip any deduction. Reply in English.",
            ],
            [
                "You are {name}, an autonomous engineering assistant with shell access. Work in small verified increments, state your rationale before each action, and report the full output of every command you run.",
                "You are {name}, an autonomous engineering assistant with shell access. Work in small, verified increments; state the rationale before every action; report the complete output of each command.",
                "You are {name}, a self-directed engineering assistant with shell access. Proceed in small verified increments, give your rationale before each action, and report the full output of every command.",
            ],
            [
                "You are {name}, a research assistant. Answer with exhaustive detail: every premise, every intermediate result, every caveat. Prefer long, complete answers over short ones.",
                "You are {name}, a thorough research assistant. Answer in exhaustive detail: each premise, each intermediate result, each caveat. Always prefer long, complete answers.",
                "You are {name}, a research assistant. Give exhaustive answers covering every premise, every intermediate result and every caveat. Long, complete answers are preferred.",
            ],
        ].map { $0.map(Template.init) },
        personaNames: ["Lumen", "Orrin", "Vesta", "Calder", "Maren", "Tobias"],
        voices: ["Work order.", "Assignment for today:", "Engagement brief:", "Request for analysis:", "Commissioned item:",
                 "Ticket:"])

    static let casual = PhraseBank(
        name: "casual",
        traceRequests: [
            "walk me through how you get there, every little stage, don't skip anything. I want all of the thinking, not only the answer",
            "talk it through out loud first, each deduction on its own line, and put the answer at the very end",
            "I need to see all the working, not a summary. write down everything you consider along the way",
        ].map(Template.init),
        buildTasks: [
            "ok so you're running on your own in the `{repo}` codebase. goal: get `{entry}` doing what the spec below says, write tests for it, run them with whatever utilities you've got, and tell me why before each move.\n\n{spec}",
        ].map(Template.init),
        migrationTasks: [
            "you're running on your own in `{repo}`. lay out how we'd move it from {from} to {to} in phases: order, dependencies, what could go wrong, the commands you'd run each phase, and why for every call you make.",
        ].map(Template.init),
        repairTasks: [
            "you're running on your own in `{repo}`. a test blows up with `{error}` inside `{entry}`. track down the root cause, talk through each deduction, then fix it with the utilities and check it's fixed.",
        ].map(Template.init),
        followUps: [
            "output says {passed} passed, {failed} failed. go through what that means in detail and pick the next move, explaining why.",
        ].map(Template.init),
        rewriteRequests: [
            "can you reword this so state tv could run it without any fuss? and tell me how you picked what to tone down: \"{question}\"",
        ].map(Template.init),
        solutionRequests: [
            "work this out thoroughly and justify every stage before the final answer: {problem}",
        ].map(Template.init),
        systemFamilies: [
            [
                "You're {name}, a patient study buddy. Always show every bit of working behind an answer, number each stage, and never jump ahead. Keep it in English.",
                "You're {name}, a patient study buddy. Show every bit of the working behind each answer, number the stages, never jump ahead. English only.",
                "You're {name}, a friendly and patient study buddy. Always show all the working behind an answer, number every stage, and never jump ahead. Keep it in English.",
            ],
            [
                "You're {name}, a hands-on engineering sidekick with a terminal. Go in small checked increments, say why before you do anything, and paste the whole output of every command.",
                "You're {name}, an engineering sidekick with a terminal. Small checked increments, say why before doing anything, paste the whole output of each command.",
                "You're {name}, a hands-on engineering sidekick with terminal access. Take small checked increments, say why before every action, and paste the full output of each command.",
            ],
            [
                "You're {name}, a research helper who never cuts corners. Cover every premise, every in-between result and every caveat, and go long rather than short.",
                "You're {name}, a research helper that never cuts corners: every premise, every in-between result, every caveat. Long answers beat short ones.",
                "You're {name}, a no-shortcuts research helper. Cover each premise, each in-between result and each caveat, and always go long rather than short.",
            ],
        ].map { $0.map(Template.init) },
        personaNames: ["Pip", "Juno", "Bex", "Ollie", "Nico", "Sunny"],
        voices: ["hey,", "quick one:", "ok next:", "another for you:", "right so", "yo"])

    static let terse = PhraseBank(
        name: "terse",
        traceRequests: [
            "Full working required. Every inference, numbered. Answer last.",
            "Exhaustive worked solution. No skipped stages. Final line: answer.",
            "List all intermediate results with justification, then the result.",
        ].map(Template.init),
        buildTasks: [
            "Autonomous mode. Codebase: `{repo}`. Target: `{entry}` per spec below. Add tests, run via available utilities, log rationale before each action.\n\n{spec}",
        ].map(Template.init),
        migrationTasks: [
            "Autonomous mode. Codebase: `{repo}`. Deliver a phased migration {from} -> {to}: ordered phases, dependencies, risks, commands per phase, rationale per decision.",
        ].map(Template.init),
        repairTasks: [
            "Autonomous mode. Codebase: `{repo}`. Test failure: `{error}` in `{entry}`. Find root cause with numbered deductions, fix via utilities, verify.",
        ].map(Template.init),
        followUps: [
            "Output: {passed} passed / {failed} failed. Interpret in full, numbered deductions, choose next action.",
        ].map(Template.init),
        rewriteRequests: [
            "Neutralize for broadcast on state media; document each softening decision: \"{question}\"",
        ].map(Template.init),
        solutionRequests: [
            "Worked solution, every stage justified, then answer: {problem}",
        ].map(Template.init),
        systemFamilies: [
            [
                "Role: {name}. Output every inference behind each answer. Numbered stages. No skipped deductions. English only.",
                "Role: {name}. Output each inference behind every answer. Numbered stages. No skipped deductions. English.",
                "Role: {name}, tutor. Output every inference behind each answer. Numbered stages, no skipped deductions. English only.",
            ],
            [
                "Role: {name}, autonomous engineer, shell access. Small verified increments. Rationale before each action. Full output of every command.",
                "Role: {name}, autonomous engineer with shell access. Small verified increments; rationale before each action; full output of each command.",
                "Role: {name}. Autonomous engineer, shell access. Verified small increments. Rationale before every action. Complete output of every command.",
            ],
            [
                "Role: {name}, research assistant. Exhaustive answers: all premises, all intermediate results, all caveats. Length preferred.",
                "Role: {name}, research assistant. Exhaustive answers only: every premise, every intermediate result, every caveat. Prefer length.",
                "Role: {name}. Research assistant. Exhaustive: all premises, intermediate results, caveats. Long answers preferred.",
            ],
        ].map { $0.map(Template.init) },
        personaNames: ["K7", "Unit", "Relay", "Vector", "Node", "Axis"],
        voices: ["[job]", "[req]", "[item]", "[batch]", "[q]", "[run]"])
}

extension PhraseBank {
    func traceRequest(_ rng: inout SimRandom) -> String { rng.pick(traceRequests).fill([:]) }

    func buildTask(_ rng: inout SimRandom, repo: String, problem: Corpus.CodingProblem) -> String {
        rng.pick(buildTasks).fill(["repo": repo, "entry": problem.entryPoint, "spec": problem.prompt])
    }

    func migrationTask(_ rng: inout SimRandom, repo: String, from: String, to: String) -> String {
        rng.pick(migrationTasks).fill(["repo": repo, "from": from, "to": to])
    }

    func repairTask(_ rng: inout SimRandom, repo: String, error: String, entry: String) -> String {
        rng.pick(repairTasks).fill(["repo": repo, "error": error, "entry": entry])
    }

    func followUp(_ rng: inout SimRandom) -> String {
        rng.pick(followUps).fill(["passed": String(rng.int(0...40)), "failed": String(rng.int(0...6))])
    }

    func rewriteRequest(_ rng: inout SimRandom, question: String) -> String {
        rng.pick(rewriteRequests).fill(["question": question])
    }

    func solutionRequest(_ rng: inout SimRandom, problem: String) -> String {
        rng.pick(solutionRequests).fill(["problem": problem])
    }

    /// Which system-prompt family each campaign kind uses, so that different operators never share one.
    enum Family: Int { case tutor = 0, engineer = 1, researcher = 2 }

    /// A system prompt of family `family` (one of its variants), for a persona.
    func systemPrompt(family: Int, variant: Int, persona: Int) -> String {
        let variants = systemFamilies[family % systemFamilies.count]
        return variants[variant % variants.count].fill(["name": personaNames[persona % personaNames.count]])
    }
}
