import Foundation
import MoatIntel
import Yams

extension IntelConfig {
    /// Reads a YAML configuration: a missing file, bad YAML or a wrong field is an `IntelError` that names
    /// the file and the field.
    public static func load(path: String) throws(IntelError) -> IntelConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw IntelError("\(path): cannot read the configuration file")
        }
        do {
            return try YAMLDecoder().decode(IntelConfig.self, from: text.isEmpty ? "{}" : text)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
            let DecodingError.dataCorrupted(context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw IntelError("\(path): field `\(field)`: \(context.debugDescription)")
        } catch let DecodingError.keyNotFound(key, context) {
            let field = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            throw IntelError("\(path): field `\(field)`: missing")
        } catch {
            throw IntelError("\(path): \(error)")
        }
    }

    /// Loads and resolves against the process environment and the file system (key and token files are
    /// read relative to the working directory).
    public static func loadResolved(path: String) throws(IntelError) -> ResolvedIntelConfig {
        let config = try load(path: path)
        do {
            return try ResolvedIntelConfig.resolve(config, environment: ProcessInfo.processInfo.environment) { file in
                try? String(contentsOfFile: file, encoding: .utf8)
            }
        } catch {
            throw IntelError("\(path): \(error.message)")
        }
    }
}
