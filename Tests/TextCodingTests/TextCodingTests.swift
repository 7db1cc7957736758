import Testing

@testable import TextCoding

struct TextCodingTests {
    @Test func percentEncodingKeepsOnlyTheUnreservedSet() {
        #expect(PercentEncoding.encode("a b/ç~._-", keepSlash: false) == "a%20b%2F%C3%A7~._-")
        #expect(PercentEncoding.encode("a b/ç", keepSlash: true) == "a%20b/%C3%A7")
        var output: [UInt8] = []
        PercentEncoding.encode("x=&+", into: &output)
        #expect(String(decoding: output, as: UTF8.self) == "x%3D%26%2B")
    }

    @Test func formDecodingIsStrictQueryDecodingLenient() {
        func form(_ text: String) -> String? { Array(text.utf8).withUnsafeBytes { PercentEncoding.decodeForm($0) } }
        #expect(form("a+b%C3%A7%2b") == "a bç+")
        #expect(form("%2") == nil && form("%zz") == nil && form("%FF") == nil)
        #expect(PercentEncoding.decodeLeniently("a+b%C3%A7%2") == "a bç%2")
    }

    @Test func hexAndXML() {
        #expect(Hex.lowercase([0x00, 0xAB, 0xFF]) == "00abff")
        #expect(TextEscaping.xml(#"<a href="x">'&'</a>"# + "\r") == #"&lt;a href="x"&gt;'&amp;'&lt;/a&gt;&#xD;"#)
        #expect(TextEscaping.xml("plain") == "plain")
        #expect(PercentEncoding.hexValue(UInt8(ascii: "F")) == 15 && PercentEncoding.hexValue(UInt8(ascii: "g")) == nil)
    }

    @Test func headerNamesAreLoweredOnlyWhenTheyHaveCapitals() {
        #expect("X-Amz-Security-Token".asciiLowercased == "x-amz-security-token")
        #expect("content-type".asciiLowercased == "content-type")
        #expect("Ünïcode-X".asciiLowercased == "Ünïcode-X".lowercased())
        #expect("".asciiLowercased == "")
    }

    @Test func containsComparesBytes() {
        #expect("a/../b".containsBytes(of: ".."))
        #expect("partNumber=1&uploadId=x".containsBytes(of: "uploadId="))
        #expect("aab".containsBytes(of: "ab"))
        #expect("x".containsBytes(of: ""))
        #expect(!"a.b.c".containsBytes(of: ".."))
        #expect(!"ab".containsBytes(of: "abc"))
        #expect(!"".containsBytes(of: "a"))
        // Bytes, not characters: a dot with a combining accent still holds "..".
        #expect("..\u{301}".containsBytes(of: ".."))
        #expect("cafe\u{301}".containsBytes(of: "e"))
        #expect(!"cafe\u{301}".contains("e"))
    }
}

struct XMLElementNodeTests {
    @Test func theFirstElementOfANameAnywhereInTheDocument() {
        let error =
            #"<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>a &amp; b</Message><Key>k</Key></Error>"#
        #expect(XMLElementNode.text(of: "Code", in: error) == "NoSuchKey")
        #expect(XMLElementNode.text(of: "Message", in: error) == "a & b")
        let nested = "<R xmlns=\"urn:x\"><A><Id>1</Id></A><Id>2</Id></R>"
        #expect(XMLElementNode.text(of: "Id", in: nested) == "1")
        #expect(XMLElementNode.text(of: "Missing", in: nested) == nil)
        #expect(XMLElementNode.text(of: "Code", in: "<html><body>Bad gateway") == nil)
    }
}
