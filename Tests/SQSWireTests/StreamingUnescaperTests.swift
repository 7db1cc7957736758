import Foundation
import Testing

@testable import SQSWire

/// The streaming unescapers against Foundation's JSON coder and form decoding, with the input cut
/// into pieces at every position, so that every escape sequence is split somewhere.
struct StreamingUnescaperTests {
    static let samples = [
        "plain ascii", "", "quote \" backslash \\ slash / controls \u{01}\u{08}\u{0C}\n\r\t\u{1F}",
        "é ü ß ሴ € 😀 👩‍👩‍👧 𝄞", String(repeating: "😀\\\"é", count: 50), "\u{7F}\u{80}\u{FFFF}\u{10FFFF}",
    ]

    /// Runs the unescaper over `literal` (the bytes after the opening quote) cut at `cuts`.
    func unescape(_ literal: [UInt8], cuts: [Int]) throws -> (String, Int) {
        var unescaper = JSONStringUnescaper()
        var output: [UInt8] = []
        var start = 0
        for end in cuts + [literal.count] where end >= start {
            let progress = try literal[start..<end].withUnsafeBytes { try unescaper.consume($0, into: &output) }
            if case .finished(let consumed) = progress {
                return (String(decoding: output, as: UTF8.self), start + consumed)
            }
            start = end
        }
        Issue.record("no closing quote")
        return ("", 0)
    }

    @Test(arguments: samples)
    func jsonAgainstFoundationEverySplit(_ sample: String) throws {
        for encoder in [Self.foundationJSON, Self.asciiOnlyJSON] {
            let encoded = try encoder(sample)
            let literal = Array(encoded.dropFirst()) + Array(",\"next\"".utf8)
            let closing = encoded.count - 1
            for cut in 0...min(literal.count, 400) {
                let (decoded, consumed) = try unescape(literal, cuts: [cut])
                #expect(decoded == sample)
                #expect(consumed == closing)
            }
        }
    }

    @Test func jsonInOneBytePieces() throws {
        let sample = Self.samples.joined()
        let literal = Array(try Self.asciiOnlyJSON(sample).dropFirst())
        let (decoded, _) = try unescape(literal, cuts: Array(0...literal.count))
        #expect(decoded == sample)
    }

    @Test(arguments: [#"\x""#, #"\u12G4""#, #"\uD83D""#, #"\uD83Dx""#, #"\uD83D\u0041""#, #"\uDE00""#, "a\u{01}\""])
    func invalidJSONStrings(_ literal: String) {
        #expect(throws: SQSError.self) { _ = try unescape(Array(literal.utf8), cuts: []) }
    }

    @Test func invalidUTF8InJSON() {
        #expect(throws: SQSError.self) { _ = try unescape([0x61, 0xC3, 0x28, 0x22], cuts: []) }
        #expect(throws: SQSError.self) { _ = try unescape([0x61, 0xE2, 0x82, 0x22], cuts: [2]) }
    }

    @Test(arguments: samples)
    func formAgainstFoundationEverySplit(_ sample: String) throws {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~ ")
        allowed.remove(charactersIn: "+&%")
        let encoded = Array(
            try #require(sample.addingPercentEncoding(withAllowedCharacters: allowed)).replacingOccurrences(
                of: " ", with: "+"
            ).utf8)
        #expect(
            String(decoding: try QueryParameters.parse(Array("v=".utf8) + encoded)["v"]!.utf8, as: UTF8.self) == sample)
        let input = encoded + Array("&Next=1".utf8)
        for cut in 0...min(input.count, 400) {
            var decoder = FormValueDecoder()
            var output: [UInt8] = []
            var finished: Int?
            for (start, end) in [(0, cut), (cut, input.count)] {
                let progress = try input[start..<end].withUnsafeBytes { try decoder.consume($0, into: &output) }
                if case .finished(let consumed) = progress {
                    finished = start + consumed
                    break
                }
            }
            #expect(String(decoding: output, as: UTF8.self) == sample)
            #expect(finished == encoded.count + 1)
        }
    }

    @Test func formValueEndingWithTheBody() throws {
        var decoder = FormValueDecoder()
        var output: [UInt8] = []
        let progress = try Array("a+b%E2%82".utf8).withUnsafeBytes { try decoder.consume($0, into: &output) }
        #expect(progress == .needMore)
        #expect(throws: SQSError.self) { try decoder.finish() }
        _ = try Array("%AC".utf8).withUnsafeBytes { try decoder.consume($0, into: &output) }
        try decoder.finish()
        #expect(String(decoding: output, as: UTF8.self) == "a b€")
    }

    @Test(arguments: ["%", "%4", "%zz", "%FF", "%C3%28"])
    func invalidFormValues(_ value: String) {
        var decoder = FormValueDecoder()
        var output: [UInt8] = []
        #expect(throws: SQSError.self) {
            _ = try Array(value.utf8).withUnsafeBytes { try decoder.consume($0, into: &output) }
            try decoder.finish()
        }
    }

    static func foundationJSON(_ string: String) throws -> [UInt8] {
        Array(try JSONEncoder().encode(string))
    }

    /// Foundation's output with every non-ASCII character as `\uXXXX` (surrogate pairs beyond the
    /// BMP), the form the Python SDKs send.
    static func asciiOnlyJSON(_ string: String) throws -> [UInt8] {
        var output = "\""
        for unit in String(decoding: try foundationJSON(string).dropFirst().dropLast(), as: UTF8.self).utf16 {
            if unit < 0x80 {
                output.unicodeScalars.append(UnicodeScalar(UInt8(unit)))
            } else {
                output += String(format: "\\u%04x", unit)
            }
        }
        return Array((output + "\"").utf8)
    }
}
