import FuzzSupport
import SQSWire

/// The JSON parser: a document it accepts serializes to one it parses to the same value, and the
/// shallow mode (a forwarded request's) accepts exactly what the full parser accepts, with the same
/// top-level members; a member replaced in place changes that member alone.
func fuzzJSONParser(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = count > 0 && start != nil ? Array(UnsafeRawBufferPointer(start: start, count: count)) : []
    let full = try? JSONValue.parse(bytes)
    let shallow = try? JSONValue.parse(bytes, shallow: true)
    invariant((full == nil) == (shallow == nil), "shallow and full parsing disagree on acceptance")
    guard let full else { return 0 }
    invariant(full.objectValue?.keys.sorted() == shallow?.objectValue?.keys.sorted(), "top-level members differ")
    let serialized = full.serialized()
    guard let again = try? JSONValue.parse(serialized) else {
        invariant(false, "serialized value does not parse: \(String(decoding: serialized, as: UTF8.self))")
        return 0
    }
    invariant(again == full, "value changed through serialize and parse")
    invariant(again.serialized() == serialized, "serialization is not stable")
    replacingAMember(full, bytes)
    return 0
}

/// `JSONMemberRange` (a forwarded request's queue URL): a top-level member found once, replaced by
/// a string, gives the same document but for that member; one not found is absent or repeated.
private func replacingAMember(_ document: JSONValue, _ bytes: [UInt8]) {
    guard let members = document.objectValue, let name = members.keys.min() else { return }
    let value = "r\"\\\u{1}é"
    guard let replaced = bytes.withUnsafeBytes({ JSONMemberRange.replacing(name, withString: value, in: $0) }) else {
        let escaped = bytes.withUnsafeBytes { $0.contains(UInt8(ascii: "\\")) }
        // Without escapes, a member the parser kept was found unless its name is there twice.
        invariant(escaped || occurrences(of: name, in: bytes) > 1, "member \(name) not found")
        return
    }
    var expected = document
    expected[name] = .string(value)
    invariant((try? JSONValue.parse(replaced)) == expected, "replacing \(name) changed more than it")
}

/// How often `"name"` appears in `bytes` (an upper bound of the members so named).
private func occurrences(of name: String, in bytes: [UInt8]) -> Int {
    let needle = Array("\"\(name)\"".utf8)
    guard bytes.count >= needle.count else { return 0 }
    return (0...(bytes.count - needle.count)).filter { bytes[$0..<$0 + needle.count].elementsEqual(needle) }.count
}
