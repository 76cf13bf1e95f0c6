import Foundation
import MoatCore

/// Replays an exchange log through a fresh engine in event time: what `moat detect` does.
public enum Replay {
    public static func run(_ reader: ExchangeReader, accounts: [Account], config: DetectionConfig = DetectionConfig(),
                           progress: ((Int, Int64) -> Void)? = nil) throws(ContractError) -> Report {
        var engine = DetectionEngine(config: config, accounts: accounts)
        var n = 0
        let readOnly = ProcessInfo.processInfo.environment["MOAT_READ_ONLY"] != nil
        while let e = try reader.next() {
            if readOnly { n += 1; continue }
            _ = engine.ingest(e)
            n += 1
            if n & 0x3FFF == 0 { progress?(n, reader.bytesRead) }
        }
        _ = engine.flush()
        progress?(n, reader.bytesRead)
        return engine.report(invalidLines: reader.invalidLines)
    }
}
