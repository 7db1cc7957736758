/// SQS's own limits on a request's shape, which the proxy enforces before it holds more than a
/// valid request could make it hold.
public enum SQSLimits {
    /// The most entries of a batch request.
    public static let maxBatchEntries = 10
    /// The most message attributes of one message.
    public static let maxMessageAttributes = 10

    /// The most parameters of a Query request, its URL's query string included: more than any
    /// valid request has. The largest is a `SendMessageBatch` of 10 entries that each use every
    /// member: `Action`, `Version` and `QueueUrl` (3), and per entry `Id`, `MessageBody`,
    /// `DelaySeconds`, `MessageDeduplicationId` and `MessageGroupId` (5), 10 message attributes
    /// of three parameters each (`Name`, `Value.DataType`, and `Value.StringValue` or
    /// `Value.BinaryValue`: 30), and the one message system attribute, `AWSTraceHeader` (3):
    /// 3 + 10 × 38 = 383; plus the 7 parameters of a request presigned in its URL
    /// (`X-Amz-Algorithm`, `-Credential`, `-Date`, `-Expires`, `-SignedHeaders`, `-Signature`,
    /// `-Security-Token`): 390. Lists whose length SQS does not bound (the attribute names a
    /// receive asks for, the accounts of `AddPermission`) are bounded by this total.
    public static let maxQueryParameters = 390

    /// The most values (objects, arrays, strings, numbers, booleans and nulls, nested or not) of a
    /// JSON request. The largest is the same `SendMessageBatch`: the document, `QueueUrl` and the
    /// `Entries` array (3), and per entry its object, the five scalar members (5), the
    /// `MessageAttributes` object and, for each of 10 attributes, its object, `DataType` and one
    /// value (31), the `MessageSystemAttributes` object with `AWSTraceHeader`'s object, `DataType`
    /// and value (4): 3 + 10 × 41 = 413.
    public static let maxJSONValues = 413

    /// The most items a request in `wireProtocol` may hold: JSON values or Query parameters.
    public static func maxItems(_ wireProtocol: SQSProtocol) -> Int {
        wireProtocol == .json ? maxJSONValues : maxQueryParameters
    }
}
