/// Runs `body` over `bytes` as one contiguous buffer, copying only a collection that has none.
/// Parsers work on the buffer: generic code over `some Collection<UInt8>` called from another
/// module runs unspecialised, with an allocation for every index step.
func withContiguousBytes<Value>(
    _ bytes: some Collection<UInt8>, _ body: (UnsafeRawBufferPointer) throws(SQSError) -> Value
) throws(SQSError) -> Value {
    let result = bytes.withContiguousStorageIfAvailable { buffer in
        Result { () throws(SQSError) in try body(UnsafeRawBufferPointer(buffer)) }
    }
    if let result { return try result.get() }
    return try Array(bytes).withUnsafeBytes { buffer in
        Result { () throws(SQSError) in try body(buffer) }
    }.get()
}
