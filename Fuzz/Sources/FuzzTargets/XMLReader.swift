import FuzzSupport
import TextCoding

/// The XML reader under the Query response codec and the S3 and STS clients: a document it reads,
/// written back (elements and their text), reads to the same tree.
func fuzzXMLReader(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = count > 0 && start != nil ? Array(UnsafeRawBufferPointer(start: start, count: count)) : []
    guard let root = XMLElementNode.parse(bytes) else { return 0 }
    var written: [UInt8] = []
    write(root, into: &written)
    let again = XMLElementNode.parse(written)
    invariant(again == root, "the tree changed through write and read: \(String(decoding: written, as: UTF8.self))")
    invariant(
        XMLElementNode.text(of: root.name, in: String(decoding: written, as: UTF8.self)) == root.text,
        "text(of:in:) disagrees with the tree")
    return 0
}

/// `<name>text children</name>`: the text first (mixed content is read as one text).
func write(_ node: XMLElementNode, into output: inout [UInt8]) {
    output += Array("<\(node.name)>".utf8)
    TextEscaping.xml(node.text.utf8, into: &output)
    for child in node.children { write(child, into: &output) }
    output += Array("</\(node.name)>".utf8)
}
