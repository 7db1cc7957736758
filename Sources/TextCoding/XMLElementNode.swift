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

    /// Parses a document; nil if it is not well-formed XML in UTF-8 (see ``XMLReader``).
    public static func parse(_ bytes: some Collection<UInt8>) -> XMLElementNode? {
        XMLReader.parse(Array(bytes))
    }
}
