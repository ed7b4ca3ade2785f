import Glibc
import Testing

@testable import TLS

/// Contexts refuse unusable files at start-up, naming the file.
@Suite struct TLSContextTests {
    @Test func aMissingCertificateIsNamed() {
        let missing = makeTemporaryDirectory() + "/missing.pem"
        let settings = TLSServerSettings(certificateFile: missing, keyFile: TestCertificate.shared.keyFile)
        let error = #expect(throws: TLSError.self) { try TLSContext(server: settings) }
        #expect(error?.description.contains(missing) == true, "\(String(describing: error))")
    }

    @Test func aMissingKeyIsNamed() {
        let missing = makeTemporaryDirectory() + "/missing-key.pem"
        let settings = TLSServerSettings(certificateFile: TestCertificate.shared.certificateFile, keyFile: missing)
        let error = #expect(throws: TLSError.self) { try TLSContext(server: settings) }
        #expect(error?.description.contains(missing) == true, "\(String(describing: error))")
    }

    @Test func aKeyOfAnotherCertificateIsRefusedNamingIt() {
        let other = TestCertificate.make()
        let settings = TLSServerSettings(certificateFile: TestCertificate.shared.certificateFile, keyFile: other.keyFile)
        let error = #expect(throws: TLSError.self) { try TLSContext(server: settings) }
        #expect(error?.description.contains(other.keyFile) == true, "\(String(describing: error))")
    }

    @Test func aMissingCAFileIsNamed() {
        let missing = makeTemporaryDirectory() + "/missing-ca.pem"
        let error = #expect(throws: TLSError.self) { try TLSContext(client: TLSClientSettings(caFile: missing)) }
        #expect(error?.description.contains(missing) == true, "\(String(describing: error))")
    }

    @Test func aTicketKeyOfTheWrongSizeIsRefused() {
        var settings = TLSServerSettings(
            certificateFile: TestCertificate.shared.certificateFile, keyFile: TestCertificate.shared.keyFile)
        settings.ticketKey = [UInt8](repeating: 1, count: 48)
        let error = #expect(throws: TLSError.self) { try TLSContext(server: settings) }
        #expect(error?.description.contains("48") == true)
    }

    @Test func theSelfSignedCertificateKeyIsPrivate() throws {
        var info = stat()
        #expect(stat(TestCertificate.shared.keyFile, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
    }
}
