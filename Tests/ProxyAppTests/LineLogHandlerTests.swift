import Foundation
import Logging
import Testing

@testable import ProxyApp

struct LineLogHandlerTests {
    static let time = (seconds: 1_795_957_200, milliseconds: 7)
    static let metadata: Logger.Metadata = [
        "status": "200", "action": "SendMessage", "note": "two words", "quote": "say \"hi\"", "empty": "",
    ]

    @Test func textLine() {
        let line = LineLogHandler.line(
            time: Self.time, level: .info, logger: "sqs-extended-proxy", message: "request", metadata: Self.metadata,
            format: .text)
        #expect(
            String(decoding: line, as: UTF8.self)
                == #"2026-11-29T13:00:00.007Z info sqs-extended-proxy: request action=SendMessage empty="" "#
                + #"note="two words" quote="say \"hi\"" status=200"#)
    }

    @Test func jsonLineIsOneObjectFoundationReads() throws {
        var metadata = Self.metadata
        metadata["list"] = ["a", "b"]
        metadata["message"] = "shadowed"
        let line = LineLogHandler.line(
            time: Self.time, level: .warning, logger: "proxy", message: "line\nbreak \"quoted\"", metadata: metadata,
            format: .json)
        #expect(!line.contains(UInt8(ascii: "\n")))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
        #expect(object["time"] as? String == "2026-11-29T13:00:00.007Z")
        #expect(object["level"] as? String == "warning")
        #expect(object["logger"] as? String == "proxy")
        #expect(object["message"] as? String == "line\nbreak \"quoted\"")
        #expect(object["quote"] as? String == "say \"hi\"")
        #expect(object["list"] as? [String] == ["a", "b"])
        #expect(object.count == 10)
    }
}
