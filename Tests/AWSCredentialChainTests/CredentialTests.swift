import AWSSigning
import Foundation
import Testing

@testable import AWSCredentialChain

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

    @Test func descriptionHidesTheSecret() {
        let credentials = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "topsecret")
        #expect(!"\(credentials)".contains("topsecret"))
    }
}
