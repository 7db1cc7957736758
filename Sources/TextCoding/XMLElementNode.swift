import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// An element of a parsed XML document: name, child elements and text content.
public struct XMLElementNode: Sendable, Hashable {
    public var name: String
    public var children: [XMLElementNode]
    public var text: String

    public init(name: String, children: [XMLElementNode] = [], text: String = "") {
        self.name = name
        self.children = children
        self.text = text
    }

    /// The first child named `name`.
    public func child(_ name: String) -> XMLElementNode? {
        children.first { $0.name == name }
    }

    /// Every child named `name`.
    public func children(_ name: String) -> [XMLElementNode] {
        children.filter { $0.name == name }
    }

    /// The first element named `name` in document order: this one or any below it.
    public func first(_ name: String) -> XMLElementNode? {
        if self.name == name { return self }
        for child in children {
            if let found = child.first(name) { return found }
        }
        return nil
    }

    /// The text of the first element named `name` in the document `text`; nil if there is none or
    /// `text` is not well-formed XML (as AWS answers carry their results and errors).
    public static func text(of name: String, in text: some StringProtocol) -> String? {
        parse(Array(text.utf8))?.first(name)?.text
    }

    /// Parses a document; nil if it is not well-formed XML.
    public static func parse(_ bytes: some Collection<UInt8>) -> XMLElementNode? {
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else { return nil }
        return root
    }

    private final class TreeBuilder: NSObject, XMLParserDelegate {
        var stack: [XMLElementNode] = []
        var root: XMLElementNode?

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            stack.append(XMLElementNode(name: elementName))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, foundCDATA block: Data) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += String(decoding: block, as: UTF8.self)
        }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?
        ) {
            guard let element = stack.popLast() else { return }
            if stack.isEmpty {
                root = element
            } else {
                stack[stack.count - 1].children.append(element)
            }
        }
    }
}
