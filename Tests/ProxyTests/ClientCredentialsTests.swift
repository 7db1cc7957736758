import Foundation
import Testing

@testable import Proxy

struct ClientCredentialsTests {
    @Test func everySectionIsAKey() throws {
        let secrets = try ClientCredentials.parse(
            """
            # application keys
            [orders]
            aws_access_key_id = AKIAORDERS
            aws_secret_access_key = orders-secret

            [billing]
            aws_access_key_id=AKIABILLING
            aws_secret_access_key=billing/secret+
            """
        ).get()
        #expect(secrets == ["AKIAORDERS": "orders-secret", "AKIABILLING": "billing/secret+"])
    }

    @Test func incompleteRepeatedOrEmptyFilesAreRefused() {
        for text in [
            "", "# nothing", "[a]\naws_access_key_id = A\n",
            "[a]\naws_access_key_id = A\naws_secret_access_key = x\n[b]\naws_access_key_id = A\naws_secret_access_key = y\n",
        ] {
            #expect(throws: ConfigurationError.self) { try ClientCredentials.parse(text).get() }
        }
    }

    @Test func aChangedFileIsReadAgainAndABrokenOneKeepsTheKeys() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("client-keys-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "[a]\naws_access_key_id = OLD\naws_secret_access_key = old-secret\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        let credentials = try ClientCredentials(path: path)
        #expect(credentials.secret(for: "OLD") == "old-secret")
        #expect(await credentials.reload() == nil)

        try "[a]\naws_access_key_id = NEW\naws_secret_access_key = new-secret\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        guard case .success(1) = await credentials.reload() else {
            Issue.record("the changed file was not taken")
            return
        }
        #expect(credentials.secret(for: "OLD") == nil)
        #expect(credentials.secret(for: "NEW") == "new-secret")

        try "[a]\naws_access_key_id = BROKEN\n".write(toFile: path, atomically: true, encoding: .utf8)
        guard case .failure = await credentials.reload() else {
            Issue.record("a broken file was taken")
            return
        }
        #expect(credentials.secret(for: "NEW") == "new-secret")
        try FileManager.default.removeItem(atPath: path)
        guard case .failure = await credentials.reload() else {
            Issue.record("a missing file was not told")
            return
        }
        #expect(credentials.secret(for: "NEW") == "new-secret")
        #expect(throws: ConfigurationError.self) { try ClientCredentials(path: path) }
    }
}
