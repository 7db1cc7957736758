import FuzzSupport
import SQSWire

/// The JSON parser: a document it accepts serializes to one it parses to the same value, and the
/// shallow mode (a forwarded request's) accepts exactly what the full parser accepts, with the same
/// top-level members.
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
    return 0
}
