import Foundation
import Testing

@testable import TextCoding

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The escape routines used on streamed bodies, against Foundation's JSON decoder and XML parser,
/// with the special byte at every position of the eight-byte words the fast path reads.
struct TextEscapingTests {
    static let specials: [String] = ["\"", "\\", "\n", "\r", "\t", "\u{01}", "\u{1F}", "&", "<", ">", "é", "😀", "/"]

    /// Strings of every length up to 20 with one special at every position.
    static var samples: [String] {
        var samples: [String] = []
        for length in 0...20 {
            for special in specials {
                for position in 0...length {
                    let plain = String(repeating: "a", count: length)
                    let index = plain.index(plain.startIndex, offsetBy: position)
                    samples.append(plain[..<index] + special + plain[index...])
                }
            }
        }
        return samples
    }

    func escaped(_ text: String, xml: Bool) -> [UInt8] {
        var output: [UInt8] = []
        Array(text.utf8).withUnsafeBytes { TextEscaping.escape($0, xml: xml, into: &output) }
        return output
    }

    @Test func jsonEscapesDecodeToTheOriginal() throws {
        for text in Self.samples {
            let literal = Data([UInt8(ascii: "\"")] + escaped(text, xml: false) + [UInt8(ascii: "\"")])
            let decoded = try JSONDecoder().decode(String.self, from: literal)
            #expect(decoded == text)
        }
    }

    @Test func xmlEscapesParseToTheOriginal() throws {
        final class Collector: NSObject, XMLParserDelegate {
            var text = ""
            func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
        }
        for text in Self.samples
        where !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\r" && $0 != "\t" }) {
            let document = Array("<a>".utf8) + escaped(text, xml: true) + Array("</a>".utf8)
            let parser = XMLParser(data: Data(document))
            let collector = Collector()
            parser.delegate = collector
            #expect(parser.parse())
            #expect(collector.text == text)
        }
    }

    @Test func fastPathsAgreeWithTheByteByBytePaths() {
        for text in Self.samples {
            for xml in [false, true] {
                var generic: [UInt8] = []
                if xml {
                    TextEscaping.xml(AnySequence(text.utf8), into: &generic)
                } else {
                    TextEscaping.json(AnySequence(text.utf8), into: &generic)
                }
                #expect(escaped(text, xml: xml) == generic)
                let bytes = Array(text.utf8)
                let special: (UInt8) -> Bool =
                    xml
                    ? { Array("&<>\r".utf8).contains($0) }
                    : { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
                for start in 0...bytes.count {
                    let naive = bytes.indices.first { $0 >= start && special(bytes[$0]) }
                    let found = bytes.withUnsafeBytes { TextEscaping.firstNeedingEscape($0, from: start, xml: xml) }
                    #expect(found == naive)
                }
            }
        }
    }
}
