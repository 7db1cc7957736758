import AWSSigning
import FuzzSupport

/// The client-signature verifier: any request is checked without a crash, and a request the signer
/// signed, whatever its path, query and headers, verifies.
func fuzzSignatureVerifier(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    let lines = String(decoding: input.payload, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    let path = lines.first.map(String.init) ?? "/"
    let query = lines.count > 1 ? String(lines[1]) : ""
    var headers: [(name: String, value: String)] = []
    for line in lines.dropFirst(2) {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
    }
    let verifier = SigV4Verifier(service: "sqs")
    let now = 1_780_000_000
    let secrets = ["AKIDFUZZ": "fuzz-secret"]
    if input.choice & 1 == 0 {
        // As received: the fuzzer's own Authorization and date, if any.
        _ = verifier.check(method: "POST", path: path, query: query, headers: headers, now: now) { secrets[$0] }
            .flatMap { $0.verify(payloadHash: "UNSIGNED-PAYLOAD") }
        return 0
    }
    // As a client signs it: only names HTTP allows, none the signer sets itself.
    let reserved: Set<String> = ["authorization", "x-amz-date", "x-amz-security-token", "host"]
    let signable = headers.filter { header in
        !header.name.isEmpty && header.name.utf8.allSatisfy(isTokenByte)
            && !reserved.contains(header.name.lowercased())
    }
    guard !query.contains("X-Amz-Signature="), !query.contains("X-Amz-Credential=") else { return 0 }
    let sent = [("Host", "localhost:9324")] + signable
    let signature = SigV4Signer(region: "us-east-1", service: "sqs").sign(
        method: "POST", path: path, query: query, headers: sent, payloadHash: "UNSIGNED-PAYLOAD",
        credentials: AWSCredentials(accessKeyID: "AKIDFUZZ", secretAccessKey: "fuzz-secret"),
        date: SigningDate(secondsSince1970: now))
    let result = verifier.check(
        method: "POST", path: path, query: query, headers: sent + signature.headers, now: now
    ) { secrets[$0] }.flatMap { $0.verify(payloadHash: "UNSIGNED-PAYLOAD") }
    if case .failure(let failure) = result {
        invariant(false, "a signed request does not verify: \(failure)")
    }
    return 0
}

/// A byte of an HTTP token (a header name).
func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    default:
        return "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }
}
