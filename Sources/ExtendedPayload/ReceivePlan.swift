import SQSWire

/// The extended client's decisions for one ReceiveMessage: the input SQS gets (also asking for
/// both reserved attributes, and on a FIFO queue for each message's group), which messages of its
/// result carry payloads to fetch and how, and, once the fetches are done, what becomes of each
/// message. Pure: the executor does the I/O.
public struct ReceivePlan: Sendable {
    /// A payload to fetch for a message of the result.
    public struct Fetch: Sendable, Hashable {
        /// The message's place in the result.
        public var index: Int
        public var pointer: PayloadPointer
        /// Whether it streams into the response (over the held limit, or of unknown size) instead
        /// of being read whole.
        public var streams: Bool
        /// The SNS envelope the payload goes into, for a message SNS delivered without raw delivery.
        public var envelope: SNSEnvelope?
    }

    /// Why a payload could not be had; the `reason` label of `sqs_proxy_payloads_unavailable_total`.
    public enum Unavailable: String, Sendable, Hashable {
        /// No such object (or no such bucket).
        case notFound = "not_found"
        /// S3 refused to give it to the proxy.
        case accessDenied = "access_denied"
        /// Larger than the largest payload the proxy delivers.
        case tooLarge = "too_large"
        /// Any other failure: S3 failed or could not be reached.
        case failed
    }

    /// What came of fetching one payload.
    public enum FetchOutcome: Sendable, Hashable {
        /// Read whole.
        case held
        /// Opened, to stream into the response.
        case streamed
        case unavailable(Unavailable)
    }

    /// What becomes of one message of the result.
    public enum Decision: Sendable, Hashable {
        /// Delivered as SQS holds it: no payload, or one outside the payload locations.
        case deliver
        /// Delivered with the payload of `fetches[fetch]`, read whole.
        case restore(fetch: Int)
        /// Delivered with the payload of `fetches[fetch]` streamed into the response.
        case stream(fetch: Int)
        /// Not delivered and deleted from the queue: its payload is missing and
        /// `--ignore-payload-not-found` says so.
        case delete(fetch: Int)
        /// Not delivered, left in the queue: its payload could not be had. Its visibility timeout
        /// runs out and the queue's redrive policy, if any, applies to it alone.
        case leave(fetch: Int, Unavailable)
        /// Not delivered, left in the queue: an earlier message of its FIFO group in this result
        /// was left (`message` is that one's place), and order within a group is never broken.
        case leaveBehind(message: Int)

        /// The fetch the decision was made from, if any.
        public var fetch: Int? {
            switch self {
            case .restore(let fetch), .stream(let fetch), .delete(let fetch), .leave(let fetch, _): return fetch
            case .deliver, .leaveBehind: return nil
            }
        }
    }

    /// The input SQS gets.
    public let input: JSONValue
    /// The attributes the client asked for.
    public let filter: AttributeNameFilter
    /// Whether `input` is what the client sent.
    public let inputUnchanged: Bool
    /// Whether the plan asked SQS for `MessageGroupId`, which the client did not ask for: it is
    /// removed from every delivered message (``delivered(_:)``).
    public let addsGroupID: Bool
    /// Whether the queue is a FIFO queue.
    public let fifo: Bool

    /// - Parameter fifo: whether the queue is a FIFO queue (its URL ends in `.fifo`).
    public init(_ tree: JSONValue, fifo: Bool = false) {
        var (input, filter) = MessageRewriting.receiveRequest(tree)
        self.fifo = fifo
        addsGroupID = fifo && !Self.asksForGroupID(tree)
        // `AttributeNames`, which every SQS endpoint takes in both protocols.
        if addsGroupID {
            let names = input["AttributeNames"]?.arrayValue ?? []
            input["AttributeNames"] = .array(names + [.string(Self.groupIDName)])
        }
        (self.input, self.filter) = (input, filter)
        inputUnchanged = input == tree
    }

    static let groupIDName = "MessageGroupId"

    private static func asksForGroupID(_ tree: JSONValue) -> Bool {
        let names = ["AttributeNames", "MessageSystemAttributeNames"].flatMap {
            tree[$0]?.arrayValue?.compactMap(\.stringValue) ?? []
        }
        return names.contains("All") || names.contains(groupIDName)
    }

    /// The payloads of the offloaded messages among `messages` whose pointers name an allowed
    /// object, and the pointers that do not (those messages are delivered as SQS holds them).
    /// A message is offloaded when it carries a reserved attribute and its body is a pointer, or
    /// when its body is an SNS envelope of a pointer (``SNSEnvelope``).
    /// - Parameter heldPayloadLimit: payloads up to this size (as their reserved attribute says)
    ///   are read whole; larger ones, or of unknown size, stream.
    public func fetches(in messages: [JSONValue], locations: PayloadLocations, heldPayloadLimit: Int)
        -> (fetches: [Fetch], refused: [PayloadPointer])
    {
        var fetches: [Fetch] = []
        var refused: [PayloadPointer] = []
        for (index, message) in messages.enumerated() {
            let body = message["Body"]?.stringValue ?? ""
            let pointer: PayloadPointer
            let size: Int?
            var envelope: SNSEnvelope?
            if MessageRewriting.isOffloaded(message) {
                guard let offloaded = PayloadPointer(body: body) else { continue }
                pointer = offloaded
                size =
                    OffloadPolicy.reservedAttributeNames.lazy.compactMap {
                        message["MessageAttributes"]?[$0]?["StringValue"]?.stringValue.flatMap { Int($0) }
                    }.first
            } else if let delivered = SNSEnvelope(body: body) {
                (pointer, size, envelope) = (delivered.pointer, delivered.payloadSize, delivered)
            } else {
                continue
            }
            guard locations.allows(pointer) else {
                refused.append(pointer)
                continue
            }
            fetches.append(
                Fetch(
                    index: index, pointer: pointer, streams: size.map { $0 > heldPayloadLimit } ?? true,
                    envelope: envelope))
        }
        return (fetches, refused)
    }

    /// What becomes of each message of `messages`, given what came of each of `fetches` (in the
    /// same order). A payload that cannot be had costs its message alone: the message is left in
    /// the queue (deleted instead when its payload is missing and `ignorePayloadNotFound`), and the
    /// others are delivered; on a FIFO queue, the later messages of its group in this result are
    /// left with it.
    public func decisions(
        for messages: [JSONValue], fetches: [Fetch], outcomes: [FetchOutcome], ignorePayloadNotFound: Bool
    ) -> [Decision] {
        var decisions = [Decision](repeating: .deliver, count: messages.count)
        for (number, (fetch, outcome)) in zip(fetches, outcomes).enumerated() {
            switch outcome {
            case .held: decisions[fetch.index] = .restore(fetch: number)
            case .streamed: decisions[fetch.index] = .stream(fetch: number)
            case .unavailable(.notFound) where ignorePayloadNotFound: decisions[fetch.index] = .delete(fetch: number)
            case .unavailable(let reason): decisions[fetch.index] = .leave(fetch: number, reason)
            }
        }
        guard fifo else { return decisions }
        // The first message left in each group holds back every later one of that group.
        var leftGroups: [String: Int] = [:]
        for (index, message) in messages.enumerated() {
            guard let group = Self.groupID(of: message) else { continue }
            if let first = leftGroups[group] {
                decisions[index] = .leaveBehind(message: first)
            } else if case .leave = decisions[index] {
                leftGroups[group] = index
            }
        }
        return decisions
    }

    private static func groupID(of message: JSONValue?) -> String? {
        message?["Attributes"]?[groupIDName]?.stringValue
    }

    /// A delivered message as the client asked for it: without the group id the plan added.
    public func delivered(_ message: JSONValue) -> JSONValue {
        guard addsGroupID, var attributes = message["Attributes"]?.objectValue else { return message }
        attributes[Self.groupIDName] = nil
        var message = message
        message["Attributes"] = attributes.isEmpty ? nil : .object(attributes)
        return message
    }
}

/// The receipt handles of a DeleteMessage(Batch) or ChangeMessageVisibility(Batch) with the
/// extended client's markers removed: the input SQS gets, and the payloads the marked handles
/// name, split into those the proxy may delete and those it must leave alone. Pure.
public struct MarkedHandles: Sendable {
    /// The input with every marked handle restored to the one SQS issued.
    public let input: JSONValue
    /// The payloads of marked handles in the payload locations, by entry id (`""` for a single handle).
    public let payloads: [String: PayloadPointer]
    /// The payloads named by markers outside the payload locations.
    public let refused: [PayloadPointer]
    /// Whether any handle was marked; if not, SQS gets the input as the client sent it.
    public let anyMarked: Bool

    public init(_ tree: JSONValue, batch: Bool, locations: PayloadLocations) {
        var payloads: [String: PayloadPointer] = [:]
        var refused: [PayloadPointer] = []
        var anyMarked = false
        func restore(_ entry: JSONValue, id: String) -> JSONValue {
            guard let handle = MarkedReceiptHandle(entry["ReceiptHandle"]?.stringValue ?? "") else { return entry }
            anyMarked = true
            if locations.allows(handle.pointer) {
                payloads[id] = handle.pointer
            } else {
                refused.append(handle.pointer)
            }
            var entry = entry
            entry["ReceiptHandle"] = .string(handle.original)
            return entry
        }
        if batch {
            var rewritten = tree
            rewritten["Entries"] = tree["Entries"].map { entries in
                .array((entries.arrayValue ?? []).map { restore($0, id: $0["Id"]?.stringValue ?? "") })
            }
            input = rewritten
        } else {
            input = restore(tree, id: "")
        }
        self.payloads = payloads
        self.refused = refused
        self.anyMarked = anyMarked
    }

    /// The payloads to delete once SQS answered a DeleteMessageBatch: those of the entries it lists
    /// as deleted.
    public func deleted(byBatchResult result: JSONValue) -> [PayloadPointer] {
        (result["Successful"]?.arrayValue ?? []).compactMap { payloads[$0["Id"]?.stringValue ?? ""] }
    }
}
