import Logging
import Proxy
import SQSWire

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A swift-log handler that writes each entry as one line to standard error with one `write(2)`:
/// as text (`TIME LEVEL LOGGER: MESSAGE key=value …`) or as a JSON object (`time`, `level`,
/// `logger`, `message`, then the metadata as fields). Times are UTC with milliseconds. Built for
/// a line per request: no locale or time-zone lookups, no locks, no intermediate strings.
public struct LineLogHandler: LogHandler {
    /// How a line is written.
    public enum Format: String, Sendable {
        case text
        case json
    }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let format: Format

    public init(label: String, level: Logger.Level, format: Format) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var line = Self.line(
            time: Self.now(), level: event.level, logger: label, message: "\(event.message)", metadata: merged,
            format: format)
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

    /// One line without its newline; metadata in key order. `time` is seconds and milliseconds
    /// since the epoch.
    static func line(
        time: (seconds: Int, milliseconds: Int), level: Logger.Level, logger: String, message: String,
        metadata: Logger.Metadata, format: Format
    ) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        let fields = metadata.sorted { $0.key < $1.key }
        switch format {
        case .json:
            output.append(contentsOf: #"{"time":""#.utf8)
            appendTimestamp(time, to: &output)
            output.append(contentsOf: #"","level":""#.utf8)
            output.append(contentsOf: level.rawValue.utf8)
            output.append(contentsOf: #"","logger":"#.utf8)
            JSONValue.writeString(logger, to: &output)
            output.append(contentsOf: #","message":"#.utf8)
            JSONValue.writeString(message, to: &output)
            for (key, value) in fields where !["time", "level", "logger", "message"].contains(key) {
                output.append(UInt8(ascii: ","))
                JSONValue.writeString(key, to: &output)
                output.append(UInt8(ascii: ":"))
                if case .string(let text) = value {
                    JSONValue.writeString(text, to: &output)
                } else {
                    output.append(contentsOf: json(value).serialized())
                }
            }
            output.append(UInt8(ascii: "}"))
        case .text:
            appendTimestamp(time, to: &output)
            output.append(UInt8(ascii: " "))
            output.append(contentsOf: level.rawValue.utf8)
            output.append(UInt8(ascii: " "))
            output.append(contentsOf: logger.utf8)
            output.append(contentsOf: ": ".utf8)
            output.append(contentsOf: message.utf8)
            for (key, value) in fields {
                output.append(UInt8(ascii: " "))
                output.append(contentsOf: key.utf8)
                output.append(UInt8(ascii: "="))
                let text = "\(value)"
                if text.isEmpty || text.utf8.contains(where: { $0 <= 0x20 || $0 == UInt8(ascii: "\"") }) {
                    JSONValue.writeString(text, to: &output)
                } else {
                    output.append(contentsOf: text.utf8)
                }
            }
        }
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

    private static func now() -> (seconds: Int, milliseconds: Int) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return (Int(now.tv_sec), Int(now.tv_nsec) / 1_000_000)
    }

    /// `2026-11-29T12:05:13.123Z`.
    static func appendTimestamp(_ time: (seconds: Int, milliseconds: Int), to output: inout [UInt8]) {
        var seconds = time_t(time.seconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                output.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        output.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        output.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        output.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        output.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        output.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        output.append(UInt8(ascii: "."))
        digits(time.milliseconds, 3)
        output.append(UInt8(ascii: "Z"))
    }
}
