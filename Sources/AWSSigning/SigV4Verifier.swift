import TextCoding

/// Checks the SigV4 signature of a request signed in the `Authorization` header, as an AWS service
/// does: the key must be known, the date within the allowed skew of the verifier's clock, the
/// scope's service the verifier's (any region), and the signature the one the key's secret gives.
///
/// Pure: the clock and the keys are inputs. The head is checked first; the signature covers the
/// body's SHA-256, so it is compared once the body has arrived (``PendingSignature``).
public struct SigV4Verifier: Sendable {
    /// Why a request is refused.
    public enum Failure: Error, Sendable, Hashable {
        /// No SigV4 `Authorization` header.
        case missing
        /// An `Authorization` header that is not a complete SigV4 signature, or no `X-Amz-Date`.
        case malformed(String)
        /// The access key id is not one of the verifier's.
        case unknownKey(String)
        /// The request's date is further from the verifier's clock than the allowed skew.
        case expired(String)
        /// The signature is not the one the key's secret gives for this request.
        case mismatch(String)
    }

    /// What a SigV4 `Authorization` header says.
    public struct Authorization: Sendable, Hashable {
        public var accessKeyID: String
        public var day: String
        public var region: String
        public var service: String
        /// Lowercase names, as listed.
        public var signedHeaders: [String]
        public var signature: String

        /// Parses `AWS4-HMAC-SHA256 Credential=KEY/DAY/REGION/SERVICE/aws4_request,
        /// SignedHeaders=a;b, Signature=HEX`; nil if any part is missing or out of form.
        public init?(_ header: String) {
            let prefix = "AWS4-HMAC-SHA256 "
            guard header.hasPrefix(prefix) else { return nil }
            var fields: [Substring: Substring] = [:]
            for part in header.dropFirst(prefix.count).split(separator: ",") {
                let trimmed = part.drop { $0 == " " }
                guard let equals = trimmed.firstIndex(of: "="), fields[trimmed[..<equals]] == nil else { return nil }
                fields[trimmed[..<equals]] = trimmed[trimmed.index(after: equals)...]
            }
            guard fields.count == 3, let credential = fields["Credential"], let signed = fields["SignedHeaders"],
                let signature = fields["Signature"]
            else { return nil }
            let scope = credential.split(separator: "/", omittingEmptySubsequences: false)
            guard scope.count == 5, scope[4] == "aws4_request", !scope[0].isEmpty, scope[1].utf8.count == 8,
                scope[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), Self.isScopeName(scope[2]),
                Self.isScopeName(scope[3])
            else { return nil }
            let names = signed.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            guard !names.contains(where: \.isEmpty), names.allSatisfy({ $0 == $0.lowercased() }),
                signature.utf8.count == 64, signature.utf8.allSatisfy(Self.isLowercaseHex)
            else { return nil }
            accessKeyID = String(scope[0])
            day = String(scope[1])
            region = String(scope[2])
            service = String(scope[3])
            signedHeaders = names
            self.signature = String(signature)
        }

        private static func isScopeName(_ name: Substring) -> Bool {
            !name.isEmpty
                && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
        }

        private static func isLowercaseHex(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
        }
    }

    /// A request whose head passed: known key, date in time, well-formed signature. Only the body's
    /// hash is missing to compare the signature.
    public struct PendingSignature: Sendable {
        let signer: SigV4Signer
        let method: String
        let path: String
        let query: String
        let signedHeaders: [(name: String, value: String)]
        let date: SigningDate
        let secret: String
        public let authorization: Authorization

        /// Whether the signature is the one the key's secret gives for the request with a body of
        /// this hex SHA-256.
        public func verify(payloadHash: String) -> Result<Void, Failure> {
            let expected = signer.signature(
                method: method, path: path, query: query, signedHeaders: signedHeaders, payloadHash: payloadHash,
                accessKeyID: authorization.accessKeyID, secret: secret, date: date
            ).signature
            guard Self.constantTimeEqual(expected, authorization.signature) else {
                return .failure(
                    .mismatch(
                        "The request signature we calculated does not match the signature you provided. "
                            + "Check your AWS Secret Access Key and signing method."))
            }
            return .success(())
        }

        /// Compares without stopping at the first difference, so that the time taken does not tell
        /// how much of a guessed signature was right.
        static func constantTimeEqual(_ left: String, _ right: String) -> Bool {
            let left = Array(left.utf8)
            let right = Array(right.utf8)
            guard left.count == right.count else { return false }
            var difference: UInt8 = 0
            for index in left.indices { difference |= left[index] ^ right[index] }
            return difference == 0
        }
    }

    /// The service requests must be signed for.
    public var service: String
    /// How far the request's date may be from the verifier's clock, in seconds (AWS: 15 minutes).
    public var allowedSkew: Int

    public init(service: String, allowedSkew: Int = 15 * 60) {
        self.service = service
        self.allowedSkew = allowedSkew
    }

    /// Checks a request's head.
    /// - Parameters:
    ///   - path: the path as received (percent-encoded); `query` without `?`.
    ///   - headers: every header as received.
    ///   - now: the verifier's clock, in seconds since the epoch.
    ///   - secret: the secret of an access key id, nil for an unknown one.
    public func check(
        method: String, path: String, query: String, headers: [(name: String, value: String)], now: Int,
        secret: (String) -> String?
    ) -> Result<PendingSignature, Failure> {
        if Self.presignedQueryNames.contains(where: { query.containsBytes(of: $0) }) {
            return .failure(.malformed("Presigned URLs are not accepted: sign the Authorization header."))
        }
        let authorizationValues = headers.filter { $0.name.lowercased() == "authorization" }.map(\.value)
        guard !authorizationValues.isEmpty else { return .failure(.missing) }
        guard authorizationValues.count == 1, let authorization = Authorization(authorizationValues[0]) else {
            return .failure(.malformed("The Authorization header is not a complete AWS4-HMAC-SHA256 signature."))
        }
        if let unsigned = Self.headersThatMustBeSigned(headers).first(where: {
            !authorization.signedHeaders.contains($0)
        }) {
            return .failure(.malformed("The \(unsigned) header must be signed."))
        }
        let dates = headers.filter { $0.name.lowercased() == "x-amz-date" }.map(\.value)
        guard dates.count == 1, let date = SigningDate(timestamp: dates[0]) else {
            return .failure(.malformed("The request needs one X-Amz-Date header in the form YYYYMMDD'T'HHMMSS'Z'."))
        }
        guard authorization.day == date.day else {
            return .failure(.mismatch("The credential scope's date \(authorization.day) is not the request's."))
        }
        guard authorization.service == service else {
            return .failure(.mismatch("Credential should be scoped to correct service: '\(service)'."))
        }
        guard let secret = secret(authorization.accessKeyID) else {
            return .failure(.unknownKey("The security token included in the request is invalid."))
        }
        guard abs(now - date.secondsSince1970) <= allowedSkew else {
            return .failure(
                .expired(
                    "Request has expired: signed at \(date.timestamp), more than \(allowedSkew / 60) minutes "
                        + "from the proxy's time \(SigningDate(secondsSince1970: now).timestamp)."))
        }
        var signedHeaders: [(name: String, value: String)] = []
        for name in authorization.signedHeaders {
            let values = headers.filter { $0.name.lowercased() == name }
            guard !values.isEmpty else {
                return .failure(.mismatch("The signed header \(name) is not in the request."))
            }
            signedHeaders.append(contentsOf: values.map { (name, $0.value) })
        }
        return .success(
            PendingSignature(
                signer: SigV4Signer(region: authorization.region, service: service), method: method, path: path,
                query: query, signedHeaders: signedHeaders, date: date, secret: secret, authorization: authorization))
    }

    /// The headers of a request that its signature must cover, because they change what it does:
    /// `host`, `x-amz-date`, and each `x-amz-*` header it carries. Left out, as the SDKs leave them
    /// unsigned: `x-amzn-*` (trace and query-mode headers), `x-amz-user-agent` (names the client
    /// alone; PHP's signer leaves it out), and `content-type`, which PHP's signer never signs (boto3,
    /// Java v2, JS v3, Go v2 and Ruby sign every header but a few hop-by-hop ones): the proxy reads a
    /// request by its signed body and `x-amz-target`, so a changed content type can only make it
    /// unreadable.
    static func headersThatMustBeSigned(_ headers: [(name: String, value: String)]) -> [String] {
        var names = ["host", "x-amz-date"]
        for (name, _) in headers {
            let lowercased = name.lowercased()
            guard lowercased.hasPrefix("x-amz-"), lowercased != "x-amz-user-agent", !names.contains(lowercased)
            else { continue }
            names.append(lowercased)
        }
        return names
    }

    /// Query parameters of a presigned URL, a form this verifier does not take.
    static let presignedQueryNames = ["X-Amz-Signature=", "X-Amz-Credential="]
}
