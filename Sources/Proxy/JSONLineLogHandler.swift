import Logging
import SQSWire

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A swift-log handler that writes one JSON object per line to standard error: `time` (UTC, ISO
/// 8601 with milliseconds), `level`, `logger`, `message`, then the metadata as fields.
public struct JSONLineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var line = Self.line(
            time: Self.timestamp(), level: event.level, logger: label, message: "\(event.message)", metadata: merged)
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    /// One log line without its newline; metadata fields in name order.
    static func line(time: String, level: Logger.Level, logger: String, message: String, metadata: Logger.Metadata)
        -> [UInt8]
    {
        var fields: [(String, JSONValue)] = [
            ("time", .string(time)), ("level", .string(level.rawValue)), ("logger", .string(logger)),
            ("message", .string(message)),
        ]
        for (key, value) in metadata.sorted(by: { $0.key < $1.key })
        where !["time", "level", "logger", "message"].contains(key) {
            fields.append((key, json(value)))
        }
        var output: [UInt8] = [UInt8(ascii: "{")]
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            JSONValue.writeString(key, to: &output)
            output.append(UInt8(ascii: ":"))
            output.append(contentsOf: value.serialized())
        }
        output.append(UInt8(ascii: "}"))
        return output
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): return .string(text)
        case .stringConvertible(let convertible): return .string(convertible.description)
        case .array(let values): return .array(values.map(json))
        case .dictionary(let values): return .object(values.mapValues(json))
        }
    }

    /// Now, as `2026-11-29T12:05:13.123Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = time_t(now.tv_sec)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}
