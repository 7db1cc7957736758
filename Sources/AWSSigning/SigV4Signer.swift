import Crypto
import Synchronization
import TextCoding

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// AWS Signature Version 4 for requests signed in the `Authorization` header.
///
/// Pure: the time and the credentials are inputs, so the same request always yields the same
/// signature, which is what the official test vectors check.
public struct SigV4Signer: Sendable {
    /// How the canonical URI is formed from the request path.
    public enum PathStyle: Sendable {
        /// Every service but S3: dot segments and empty segments removed, then the wire path
        /// percent-encoded again (a `%20` on the wire is `%2520` in the canonical request).
        case normalizedDoubleEncoded
        /// S3: the wire path as sent, already percent-encoded once, not normalized.
        case s3
    }

    /// What signing produced: the headers to add and the intermediate strings, for diagnosis.
    public struct Signature: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        public var signedHeaders: String
        public var authorization: String
        /// `X-Amz-Date`, `X-Amz-Security-Token` (with session credentials) and `Authorization`.
        public var headers: [(name: String, value: String)]
    }

    public var region: String
    public var service: String
    public var pathStyle: PathStyle
    private let keys = SigningKeyCache()

    public init(region: String, service: String, pathStyle: PathStyle = .normalizedDoubleEncoded) {
        self.region = region
        self.service = service
        self.pathStyle = pathStyle
    }

    /// The hex SHA-256 of an empty payload.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The hex SHA-256 of `payload`.
    public static func payloadHash(_ payload: some Sequence<UInt8>) -> String {
        var hasher = SHA256()
        payload.withContiguousStorageIfAvailable { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
            ?? hasher.update(data: Array(payload))
        return Hex.lowercase(hasher.finalize())
    }

    /// Signs a request.
    /// - Parameters:
    ///   - method: the HTTP method.
    ///   - path: the path as it goes on the wire (percent-encoded).
    ///   - query: the query string without `?`, as it goes on the wire.
    ///   - headers: every header to sign; must include `host`. `x-amz-date` and, with session
    ///     credentials, `x-amz-security-token` are added here.
    ///   - payloadHash: the hex SHA-256 of the body, or a literal such as `UNSIGNED-PAYLOAD`.
    ///   - credentials: the key to sign with.
    ///   - date: the signing time.
    public func sign(
        method: String, path: String, query: String, headers: [(name: String, value: String)],
        payloadHash: String, credentials: AWSCredentials, date: SigningDate
    ) -> Signature {
        var headers = headers.filter {
            let name = $0.name.asciiLowercased
            return name != "x-amz-date" && name != "authorization"
                && !(credentials.sessionToken != nil && name == "x-amz-security-token")
        }
        headers.append(("X-Amz-Date", date.timestamp))
        if let token = credentials.sessionToken { headers.append(("X-Amz-Security-Token", token)) }
        var signature = self.signature(
            method: method, path: path, query: query, signedHeaders: headers, payloadHash: payloadHash,
            accessKeyID: credentials.accessKeyID, secret: credentials.secretAccessKey, date: date)
        if let token = credentials.sessionToken { signature.headers.append(("X-Amz-Security-Token", token)) }
        signature.headers.append(("Authorization", signature.authorization))
        return signature
    }

    /// The signature of a request whose signed headers are exactly `signedHeaders` (the date among
    /// them): what ``sign(method:path:query:headers:payloadHash:credentials:date:)`` computes once it
    /// added its headers, and what a verifier recomputes from a request as received. The `headers`
    /// of the result hold `X-Amz-Date` only.
    func signature(
        method: String, path: String, query: String, signedHeaders headers: [(name: String, value: String)],
        payloadHash: String, accessKeyID: String, secret: String, date: SigningDate
    ) -> Signature {
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(headers)
        var canonicalRequest = method.uppercased()
        canonicalRequest.reserveCapacity(canonicalHeaders.utf8.count + signedHeaders.utf8.count + 256)
        for part in [canonicalURI(path), Self.canonicalQuery(query), canonicalHeaders, signedHeaders, payloadHash] {
            canonicalRequest += "\n"
            canonicalRequest += part
        }
        let scope = "\(date.day)/\(region)/\(service)/aws4_request"
        let stringToSign =
            "AWS4-HMAC-SHA256\n" + date.timestamp + "\n" + scope + "\n" + Self.payloadHash(canonicalRequest.utf8)
        var mac = keyedMAC(secret: secret, day: date.day)
        stringToSign.utf8.withContiguousStorageIfAvailable { mac.update(data: UnsafeRawBufferPointer($0)) }
            ?? mac.update(data: Array(stringToSign.utf8))
        let signature = Hex.lowercase(mac.finalize())
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signature(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
            signedHeaders: signedHeaders, authorization: authorization, headers: [("X-Amz-Date", date.timestamp)])
    }

    /// An HMAC keyed with the signing key of `secret` on `day`, ready for the string to sign: the
    /// key is derived (four HMACs) and the HMAC keyed once a day or when the credentials rotate.
    func keyedMAC(secret: String, day: String) -> HMAC<SHA256> {
        let inputs = SigningKeyCache.Inputs(secret: secret, day: day, region: region, service: service)
        return keys.mac(for: inputs) {
            var key = SymmetricKey(data: Array(("AWS4" + secret).utf8))
            for part in [day, region, service, "aws4_request"] {
                key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
            }
            return HMAC<SHA256>(key: key)
        }
    }

    func canonicalURI(_ path: String) -> String {
        switch pathStyle {
        case .s3:
            return path.isEmpty ? "/" : path
        case .normalizedDoubleEncoded:
            return PercentEncoding.encode(Self.removeDotSegments(path.isEmpty ? "/" : path), keepSlash: true)
        }
    }

    /// The path with `.`, `..` and empty segments resolved, keeping a leading and trailing slash.
    static func removeDotSegments(_ path: String) -> String {
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": _ = output.popLast()
            default: output.append(segment)
            }
        }
        let leading = path.hasPrefix("/") ? "/" : ""
        let trailing = path.hasSuffix("/") && !output.isEmpty ? "/" : ""
        return leading + output.joined(separator: "/") + trailing
    }

    /// The query string with each name and value decoded, strictly re-encoded and sorted.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for field in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentEncoding.decodeLeniently(parts[0])
            let value = parts.count > 1 ? PercentEncoding.decodeLeniently(parts[1]) : ""
            pairs.append(
                (PercentEncoding.encode(name, keepSlash: false), PercentEncoding.encode(value, keepSlash: false)))
        }
        pairs.sort { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
        return pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Canonical header lines (lowercase names, trimmed values with inner runs of spaces folded,
    /// repeated names joined with commas, sorted) and the signed-headers list.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (String, String) {
        let sorted = headers.enumerated()
            .map { (name: $0.element.name.asciiLowercased, value: foldSpaces($0.element.value), order: $0.offset) }
            .sorted { $0.name == $1.name ? $0.order < $1.order : $0.name < $1.name }
        var lines = ""
        var names = ""
        lines.reserveCapacity(sorted.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 2 })
        for (index, header) in sorted.enumerated() {
            if index > 0 && sorted[index - 1].name == header.name {
                lines.removeLast()
                lines += "," + header.value + "\n"
                continue
            }
            if !names.isEmpty { names += ";" }
            names += header.name
            lines += header.name + ":" + header.value + "\n"
        }
        return (lines, names)
    }

    static func foldSpaces(_ value: String) -> String {
        // Most values have no whitespace to fold: no leading, trailing or doubled blank.
        var previousBlank = true
        var clean = true
        for byte in value.utf8 {
            let blank = byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
            if blank && (previousBlank || byte != 0x20) {
                clean = false
                break
            }
            previousBlank = blank
        }
        if clean && !previousBlank || value.isEmpty { return value }
        var output = ""
        var pendingSpace = false
        for character in value.unicodeScalars {
            if character == " " || character == "\t" || character == "\n" || character == "\r" {
                pendingSpace = !output.isEmpty
            } else {
                if pendingSpace { output.unicodeScalars.append(" ") }
                pendingSpace = false
                output.unicodeScalars.append(character)
            }
        }
        return output
    }
}

/// The HMAC keyed with the last signing key derived: deriving one takes four HMACs and keying the
/// HMAC two hashes more, and their inputs change once a day or when the credentials rotate.
final class SigningKeyCache: Sendable {
    struct Inputs: Equatable, Sendable {
        var secret: String
        var day: String
        var region: String
        var service: String
    }

    /// A keyed HMAC shared between threads. Sound because swift-crypto's digests copy their
    /// context before the first update of a copy that is not the only one (copy on write): the
    /// cached value is never updated, every user updates its own copy.
    private struct SharedMAC: @unchecked Sendable {
        let mac: HMAC<SHA256>
    }

    private let last = Mutex<(inputs: Inputs, mac: SharedMAC)?>(nil)

    func mac(for inputs: Inputs, derive: () -> HMAC<SHA256>) -> HMAC<SHA256> {
        if let last = last.withLock({ $0 }), last.inputs == inputs { return last.mac.mac }
        let mac = SharedMAC(mac: derive())
        last.withLock { $0 = (inputs, mac) }
        return mac.mac
    }
}

/// The signing time in the two forms SigV4 uses.
public struct SigningDate: Sendable, Hashable {
    /// `YYYYMMDD'T'HHMMSS'Z'`.
    public var timestamp: String
    /// The seconds since the epoch.
    public var secondsSince1970: Int
    /// `YYYYMMDD`.
    public var day: String { String(timestamp.prefix(8)) }

    /// The time `secondsSince1970` seconds after the epoch, in UTC.
    public init(secondsSince1970: Int) {
        self.secondsSince1970 = secondsSince1970
        var time = time_t(secondsSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        timestamp =
            pad(parts.tm_year + 1900, 4) + pad(parts.tm_mon + 1, 2) + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + pad(parts.tm_min, 2) + pad(parts.tm_sec, 2) + "Z"
    }

    /// Parses a `YYYYMMDD'T'HHMMSS'Z'` timestamp (an `X-Amz-Date` header); nil unless it is one,
    /// of a real date and time.
    public init?(timestamp: String) {
        let bytes = Array(timestamp.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z"),
            bytes.indices.allSatisfy({ $0 == 8 || $0 == 15 || (bytes[$0] >= 0x30 && bytes[$0] <= 0x39) })
        else { return nil }
        func number(_ range: Range<Int>) -> Int32 { bytes[range].reduce(0) { $0 * 10 + Int32($1 - 0x30) } }
        var parts = tm()
        parts.tm_year = number(0..<4) - 1900
        parts.tm_mon = number(4..<6) - 1
        parts.tm_mday = number(6..<8)
        parts.tm_hour = number(9..<11)
        parts.tm_min = number(11..<13)
        parts.tm_sec = number(13..<15)
        // timegm normalizes fields out of range: a date it had to change was not a real one.
        self.init(secondsSince1970: Int(timegm(&parts)))
        guard self.timestamp == timestamp else { return nil }
    }

    /// The current time.
    public static func now() -> SigningDate {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return SigningDate(secondsSince1970: Int(spec.tv_sec))
    }
}
