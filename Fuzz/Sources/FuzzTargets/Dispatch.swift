import Foundation

/// The targets, by the name `FUZZ_TARGET` gives (see scripts/fuzz): one executable holds them all,
/// built once. (Built as separate executables in one build, they ran without coverage feedback.)
let targets: [String: @Sendable (UnsafeRawPointer?, Int) -> CInt] = [
    "FuzzJSONParser": fuzzJSONParser, "FuzzStreamingReaders": fuzzStreamingReaders,
    "FuzzUnescapers": fuzzUnescapers, "FuzzRequestDecoder": fuzzRequestDecoder,
    "FuzzResponseCodec": fuzzResponseCodec, "FuzzXMLReader": fuzzXMLReader,
    "FuzzPayloadCodecs": fuzzPayloadCodecs, "FuzzSignatureVerifier": fuzzSignatureVerifier,
    "FuzzSNSEnvelope": fuzzSNSEnvelope,
]

/// The target this process fuzzes.
let selected: @Sendable (UnsafeRawPointer?, Int) -> CInt = {
    let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? ""
    guard let target = targets[name] else {
        fatalError("FUZZ_TARGET must name a target: \(targets.keys.sorted().joined(separator: ", "))")
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    selected(start, count)
}
