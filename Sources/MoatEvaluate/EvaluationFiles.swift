import Foundation
import MoatCore

/// Reads the three inputs of `moat evaluate` from disk and evaluates them.
public enum EvaluationFiles {
    /// What reading the exchange log found, beside the evaluation.
    public struct LogStats: Sendable, Equatable {
        public var path: String
        public var lines: Int
        public var invalidLines: Int
        public var bytes: Int64
    }

    /// `exchanges.jsonl` beside the labels file: where `moat simulate --out DIR` writes it.
    public static func defaultExchangesPath(forLabels labelsPath: String) -> String {
        let dir = (labelsPath as NSString).deletingLastPathComponent
        return dir.isEmpty ? "exchanges.jsonl" : (dir as NSString).appendingPathComponent("exchanges.jsonl")
    }

    /// Decodes a detection report (contract section 4). Errors name the file and the JSON path of the field.
    public static func readReport(path: String) throws(ContractError) -> Report {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"
            throw ContractError(file: path, message: reason)
        }
        guard data.contains(where: { !($0 == 32 || $0 == 9 || $0 == 10 || $0 == 13) }) else {
            throw ContractError(file: path, message: "empty file, expected a report JSON document")
        }
        do {
            return try JSONDecoder().decode(Report.self, from: data)
        } catch let error as DecodingError {
            throw contractError(error, file: path)
        } catch {
            throw ContractError(file: path, message: oneLine("\(error)"))
        }
    }

    /// Reads labels, report and (when `exchangesPath` is not nil) streams the exchange log.
    public static func evaluate(labelsPath: String, reportPath: String, exchangesPath: String?,
                                skipInvalidExchanges: Bool = false) throws(ContractError)
        -> (evaluation: Evaluation, log: LogStats?) {
        let labels = try readLabels(path: labelsPath)
        let report = try readReport(path: reportPath)
        var builder = try EvaluationBuilder(labels: labels, report: report, hasExchangeLog: exchangesPath != nil,
                                            labelsFile: labelsPath, reportFile: reportPath)
        guard let exchangesPath else { return (builder.finish(), nil) }
        let reader = try ExchangeReader(path: exchangesPath, skipInvalid: skipInvalidExchanges, fields: .withoutText)
        while let exchange = try reader.next() {
            builder.add(account: exchange.accountID, ts: exchange.ts)
        }
        let stats = LogStats(path: exchangesPath, lines: reader.linesRead, invalidLines: reader.invalidLines,
                             bytes: reader.bytesRead)
        return (builder.finish(), stats)
    }

    /// The evaluation as pretty-printed JSON with sorted keys (deterministic output).
    public static func json(_ evaluation: Evaluation) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(evaluation)
    }

    static func contractError(_ error: DecodingError, file: String) -> ContractError {
        switch error {
        case .keyNotFound(let key, let context):
            return ContractError(file: file, field: jsonPath(context.codingPath + [key]), message: "missing")
        case .typeMismatch(let type, let context):
            return ContractError(file: file, field: fieldOrNil(context.codingPath),
                                 message: "wrong type, expected \(typeName(type))")
        case .valueNotFound(let type, let context):
            return ContractError(file: file, field: fieldOrNil(context.codingPath),
                                 message: "null where \(typeName(type)) is required")
        case .dataCorrupted(let context):
            var message = context.codingPath.isEmpty ? "not valid JSON" : oneLine(context.debugDescription)
            if let underlying = context.underlyingError { message += ": " + oneLine("\(underlying)") }
            return ContractError(file: file, field: fieldOrNil(context.codingPath), message: message)
        @unknown default:
            return ContractError(file: file, message: oneLine("\(error)"))
        }
    }

    private static func fieldOrNil(_ path: [any CodingKey]) -> String? {
        path.isEmpty ? nil : jsonPath(path)
    }

    /// `accounts[3].flagged_at`
    static func jsonPath(_ path: [any CodingKey]) -> String {
        var s = ""
        for key in path {
            if let i = key.intValue {
                s += "[\(i)]"
            } else {
                if !s.isEmpty { s += "." }
                s += key.stringValue
            }
        }
        return s
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "string"
        case is Int.Type: return "integer"
        case is Double.Type: return "number"
        case is Bool.Type: return "boolean"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "array" }
            if name.hasPrefix("Dictionary") { return "object" }
            return "object"
        }
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
