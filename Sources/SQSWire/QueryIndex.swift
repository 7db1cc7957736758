/// The N of a Query list or map parameter (`AttributeName.N`, `SendMessageBatchRequestEntry.N.Id`):
/// a plain decimal from 1, without a sign or leading zeros, of at most nine digits. Written any
/// other way (`01`, `+1`), SQS and the proxy could read two names as one: such names are refused.
public enum QueryIndex {
    public static func parse(_ text: some StringProtocol) -> Int? {
        let digits = text.utf8
        guard let first = digits.first, first != UInt8(ascii: "0"), digits.count <= 9,
            digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return Int(text)
    }
}
