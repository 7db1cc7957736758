import Foundation
import Testing

@testable import TextCoding

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The strict XML reader: well-formed documents read as Foundation's parser reads them (the
/// oracle), and everything else refused, the inputs the fuzzer found among them.
struct XMLReaderTests {
    static let wellFormed = [
        #"<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>a &amp; b</Message></Error>"#,
        "<?xml version='1.0'?>\n<!-- c --><R xmlns=\"urn:x\" a='1'><A><Id>1</Id></A><Id>2</Id><E/><F  /></R>\n",
        "<A>t&lt;&gt;&quot;&apos;&#65;&#x42;&#x1F600;<![CDATA[<raw> & ]]>tail</A>",
        "<A>line\r\nnext\rlast&#13;</A>",
        // (A processing instruction without data crashes Foundation: see below.)
        "<A><?pi data?>text<!---->more</A><!-- after --><?y z?>",
        "<s:Envelope xmlns:s=\"urn:s\"><s:Body>caf\u{e9} \u{2603}</s:Body></s:Envelope>",
        "\u{FEFF}<A>\t spaced \n</A>",
        "<ReceiveMessageResponse><ReceiveMessageResult><Message><Body>{&quot;k&quot;:1}</Body></Message>"
            + "</ReceiveMessageResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
            + "</ReceiveMessageResponse>",
    ]

    static let malformed: [String] = [
        "", "text", "<A>", "<A></B>", "<A><B></A></B>", "<A/><B/>", "<A/>trailing", "<A>&unknown;</A>",
        "<A>&#0;</A>", "<A>&#xD800;</A>", "<A>& b</A>", "<A b=c/>", "<A b=\"1\"c=\"2\"/>", "<A>\u{1}</A>",
        "<!DOCTYPE A [<!ENTITY e \"x\">]><A>&e;</A>", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><A/>",
        "<1A/>", "<A><![CDATA[open</A>", "<A><!-- open</A>",
        // Found by FuzzXMLReader: a malformed answer Foundation's parser took whole.
        "<SendMessageResponse><SendMessageResult><MessageId>m</MessageId></SendMessageResult></\">"
            + "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></SendMessageResponse>",
    ]

    @Test(arguments: wellFormed)
    func readsAsFoundationReads(_ document: String) throws {
        let read = try #require(XMLElementNode.parse(Array(document.utf8)))
        #expect(read == Self.foundation(document))
    }

    @Test(arguments: malformed)
    func refusesWhatIsNotWellFormed(_ document: String) {
        #expect(XMLElementNode.parse(Array(document.utf8)) == nil)
    }

    /// Found by FuzzXMLReader: Foundation's parser trapped on the first and crashed on the second.
    @Test func inputsThatCrashedFoundationAreReadOrRefused() {
        #expect(XMLElementNode.parse([UInt8(ascii: "<")] + Array(repeating: 0xFF, count: 56)) == nil)
        let instruction = XMLElementNode.parse(Array("<?x?>\n<ey>k</ey>".utf8))
        #expect(instruction == XMLElementNode(name: "ey", text: "k"))
        #expect(XMLElementNode.parse(Array("<?x?>\n<ey>k</Key><R/ReId0></Error>".utf8)) == nil)
    }

    @Test func nestingIsBounded() {
        let deep = { (depth: Int) in
            String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth)
        }
        #expect(XMLElementNode.parse(Array(deep(XMLReader.maxDepth).utf8)) != nil)
        #expect(XMLElementNode.parse(Array(deep(XMLReader.maxDepth + 1).utf8)) == nil)
        #expect(XMLElementNode.parse(Array(deep(100_000).utf8)) == nil)
    }

    /// The tree Foundation's `XMLParser` reads.
    static func foundation(_ document: String) -> XMLElementNode? {
        final class Builder: NSObject, XMLParserDelegate {
            var stack: [XMLElementNode] = []
            var root: XMLElementNode?
            func parser(
                _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]
            ) { stack.append(XMLElementNode(name: name)) }
            func parser(_ parser: XMLParser, foundCharacters string: String) {
                if !stack.isEmpty { stack[stack.count - 1].text += string }
            }
            func parser(_ parser: XMLParser, foundCDATA block: Data) {
                if !stack.isEmpty { stack[stack.count - 1].text += String(decoding: block, as: UTF8.self) }
            }
            func parser(
                _ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?
            ) {
                guard let element = stack.popLast() else { return }
                if stack.isEmpty { root = element } else { stack[stack.count - 1].children.append(element) }
            }
        }
        let builder = Builder()
        let parser = XMLParser(data: Data(document.utf8))
        parser.delegate = builder
        return parser.parse() ? builder.root : nil
    }
}
