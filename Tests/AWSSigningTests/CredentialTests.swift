import Foundation
import Testing

@testable import AWSSigning

struct CredentialTests {
    @Test func environmentCredentials() throws {
        let credentials = try EnvironmentCredentials.resolve([
            "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
        ])
        #expect(credentials == AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret", sessionToken: "token"))
        #expect(try EnvironmentCredentials.resolve([:]) == nil)
        #expect(throws: CredentialError.self) { try EnvironmentCredentials.resolve(["AWS_ACCESS_KEY_ID": "AKID"]) }
    }

    @Test func sharedFilesProfiles() throws {
        let credentials = SharedConfigFiles.parseINI(
            """
            # comment
            [default]
            aws_access_key_id = DEFAULTKEY
            aws_secret_access_key = defaultsecret

            [work]
            aws_access_key_id=WORKKEY
            aws_secret_access_key=work/secret=
            aws_session_token = worktoken
            """, profilePrefixed: false)
        let config = SharedConfigFiles.parseINI(
            """
            [default]
            region = eu-west-1
            [profile other]
            region = ap-south-1
            aws_access_key_id = OTHERKEY
            aws_secret_access_key = othersecret
            """, profilePrefixed: true)
        let files = SharedConfigFiles(credentials: credentials, config: config)
        #expect(try files.credentials(profile: "default")?.accessKeyID == "DEFAULTKEY")
        #expect(
            try files.credentials(profile: "work")
                == AWSCredentials(accessKeyID: "WORKKEY", secretAccessKey: "work/secret=", sessionToken: "worktoken"))
        #expect(try files.credentials(profile: "other")?.accessKeyID == "OTHERKEY")
        #expect(try files.credentials(profile: "missing") == nil)
        #expect(files.region(profile: "default") == "eu-west-1")
        #expect(files.region(profile: "other") == "ap-south-1")
    }

    @Test func chainPrefersEnvironmentThenProfile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("credentials").path
        try "[p]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        let files = ["AWS_SHARED_CREDENTIALS_FILE": path, "AWS_CONFIG_FILE": path + ".none", "AWS_PROFILE": "p"]
        #expect(try DefaultCredentialChain.resolve(environment: files).accessKeyID == "FILEKEY")
        let both = files.merging(["AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "s"]) { $1 }
        #expect(try DefaultCredentialChain.resolve(environment: both).accessKeyID == "ENVKEY")
        #expect(throws: CredentialError.self) {
            try DefaultCredentialChain.resolve(environment: files.merging(["AWS_PROFILE": "nope"]) { $1 })
        }
    }

    @Test func descriptionHidesTheSecret() {
        let credentials = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "topsecret")
        #expect(!"\(credentials)".contains("topsecret"))
    }
}
