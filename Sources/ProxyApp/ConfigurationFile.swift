import Proxy
import TextCoding

/// Reads a configuration file: the YAML subset of one `name: value` setting a line, which is what a
/// file of the proxy's settings needs, without a YAML library (Yams links full Foundation and its
/// ICU data, about 6 MiB of every sidecar's memory). Comments (`#` at a line's start, or after a
/// value and a space), blank lines and a leading `---` are allowed; a value is plain, or quoted in
/// single quotes (`''` for a quote) or double quotes (with `\\`, `\"`, `\n`, `\t`, `\uXXXX`).
/// Anything else YAML could mean (nesting, lists, flow collections, anchors, tags, block scalars,
/// an empty or null value, a name given twice) is refused with its line number.
enum ConfigurationFile {
    /// The file's settings, by name, as written.
    static func parse(_ text: String) throws(ConfigurationError) -> [String: String] {
        var settings: [String: String] = [:]
        // `\r\n` is one Character, a newline as `\n` is.
        for (offset, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let number = offset + 1
            if line.trimmed().isEmpty || line.hasPrefix("#") || (number == 1 && line.trimmed() == "---") { continue }
            guard let first = line.first, first.isLetter else {
                throw ConfigurationError("Line \(number) of the configuration file is not a `name: value` setting.")
            }
            guard let colon = line.firstIndex(of: ":") else {
                throw ConfigurationError("Line \(number) of the configuration file has no `:` after its name.")
            }
            let name = String(line[..<colon])
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw ConfigurationError("Line \(number) of the configuration file names no setting: \(name)")
            }
            let value = try Self.value(line[line.index(after: colon)...], line: number, name: name)
            guard settings.updateValue(value, forKey: name) == nil else {
                throw ConfigurationError("The configuration file sets \(name) twice (line \(number)).")
            }
        }
        return settings
    }

    /// The value after a name's colon.
    private static func value(_ text: Substring, line: Int, name: String) throws(ConfigurationError) -> String {
        let single = ConfigurationError("The setting \(name) must be a single value (line \(line)).")
        guard text.isEmpty || text.first == " " || text.first == "\t" else { throw single }
        let rest = text.drop { $0 == " " || $0 == "\t" }
        guard let first = rest.first, first != "#" else { throw single }
        let value: String
        let after: Substring
        switch first {
        case "\"": (value, after) = try doubleQuoted(rest.dropFirst(), error: single)
        case "'": (value, after) = try singleQuoted(rest.dropFirst(), error: single)
        default:
            // Characters that start something other than a plain scalar.
            guard
                !"[]{}&*!|>%@`-?,".contains(first) || (first == "-" && rest.count > 1 && rest.dropFirst().first != " ")
            else { throw single }
            let end = rest.firstRange(of: " #")?.lowerBound ?? rest.endIndex
            let plain = rest[..<end].trimmed()
            guard plain != "~", plain != "null", plain != "Null", plain != "NULL" else { throw single }
            return plain
        }
        let trailing = after.trimmed()
        guard trailing.isEmpty || trailing.hasPrefix("#") else { throw single }
        return value
    }

    private static func singleQuoted(_ text: Substring, error: ConfigurationError) throws(ConfigurationError) -> (
        String, Substring
    ) {
        var value = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            index = text.index(after: index)
            guard character == "'" else {
                value.append(character)
                continue
            }
            guard index < text.endIndex, text[index] == "'" else { return (value, text[index...]) }
            value.append("'")
            index = text.index(after: index)
        }
        throw error
    }

    private static func doubleQuoted(_ text: Substring, error: ConfigurationError) throws(ConfigurationError) -> (
        String, Substring
    ) {
        var value = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            index = text.index(after: index)
            switch character {
            case "\"": return (value, text[index...])
            case "\\":
                guard index < text.endIndex else { throw error }
                let escaped = text[index]
                index = text.index(after: index)
                switch escaped {
                case "\\", "\"", "/": value.append(escaped)
                case "n": value.append("\n")
                case "t": value.append("\t")
                case "u":
                    let end = text.index(index, offsetBy: 4, limitedBy: text.endIndex) ?? text.endIndex
                    guard let code = UInt32(text[index..<end], radix: 16), let scalar = Unicode.Scalar(code) else {
                        throw error
                    }
                    value.unicodeScalars.append(scalar)
                    index = end
                default: throw error
                }
            default: value.append(character)
            }
        }
        throw error
    }
}
