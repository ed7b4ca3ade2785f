// The certificate a collector makes for itself on first start when none is given, so `https://` works out of the
// box: ECDSA P-256 (the smallest certificate a client verifies cheaply: about 480 bytes of DER, signed with
// SHA-256), valid for ten years from an hour ago, for `localhost`, 127.0.0.1, ::1 and the host name. Clients trust
// it by its file (`curl --cacert`, device-sim `--ca`): it is its own CA.

internal import COpenSSL
import Glibc

/// Writes a self-signed certificate and its key as PEM files.
public enum SelfSignedCertificate {
    /// Creates `certificateFile` and `keyFile` (mode 0600) for `hostNames` (DNS names or IP addresses). Throws
    /// naming the file that could not be written.
    public static func create(certificateFile: String, keyFile: String, hostNames: [String]) throws(TLSError) {
        guard let key = fw_EVP_EC_gen("P-256") else { throw TLSError.openSSL("cannot generate a P-256 key") }
        defer { EVP_PKEY_free(key) }
        guard let certificate = X509_new() else { throw TLSError.openSSL("cannot create a certificate") }
        defer { X509_free(certificate) }
        _ = X509_set_version(certificate, 2)
        var serial = [UInt8](repeating: 0, count: 16)
        _ = RAND_bytes(&serial, 16)
        serial[0] &= 0x7f
        if let number = BN_bin2bn(serial, 16, nil) {
            _ = BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate))
            BN_free(number)
        }
        _ = X509_gmtime_adj(X509_getm_notBefore(certificate), -3600)
        _ = X509_gmtime_adj(X509_getm_notAfter(certificate), 10 * 365 * 24 * 3600)
        _ = X509_set_pubkey(certificate, key)
        let name = X509_get_subject_name(certificate)
        let commonName = hostNames.first ?? "localhost"
        _ = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0)
        _ = X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, "Fleetwire collector (self-signed)", -1, -1, 0)
        _ = X509_set_issuer_name(certificate, name)
        let alternativeNames = hostNames.map { isIPAddress($0) ? "IP:\($0)" : "DNS:\($0)" }.joined(separator: ",")
        try addExtension(certificate, NID_subject_alt_name, alternativeNames)
        try addExtension(certificate, NID_basic_constraints, "critical,CA:TRUE")
        try addExtension(certificate, NID_key_usage, "critical,digitalSignature,keyCertSign")
        try addExtension(certificate, NID_ext_key_usage, "serverAuth")
        guard X509_sign(certificate, key, EVP_sha256()) > 0 else {
            throw TLSError.openSSL("cannot sign the certificate")
        }
        try writePEM(keyFile, mode: 0o600) { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
        try writePEM(certificateFile, mode: 0o644) { PEM_write_bio_X509($0, certificate) }
    }

    private static func isIPAddress(_ text: String) -> Bool {
        text.contains(":") || (!text.isEmpty && text.allSatisfy { $0.isNumber || $0 == "." })
    }

    private static func addExtension(_ certificate: OpaquePointer, _ nid: Int32, _ value: String) throws(TLSError) {
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, certificate, certificate, nil, nil, 0)
        guard let ext = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
            throw TLSError.openSSL("cannot add certificate extension \(value)")
        }
        defer { X509_EXTENSION_free(ext) }
        guard X509_add_ext(certificate, ext, -1) == 1 else { throw TLSError.openSSL("cannot add \(value)") }
    }

    private static func writePEM(_ path: String, mode: UInt32, _ write: (OpaquePointer) -> Int32) throws(TLSError) {
        guard let bio = BIO_new(BIO_s_mem()) else { throw TLSError.openSSL("cannot write \(path)") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw TLSError.openSSL("cannot encode \(path)") }
        var data: UnsafeMutablePointer<CChar>?
        let length = fw_BIO_get_mem_data(bio, &data)
        guard let data, length > 0 else { throw TLSError("cannot encode \(path)") }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw TLSError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { _ = Glibc.close(fd) }
        _ = fchmod(fd, mode)
        var offset = 0
        while offset < length {
            let written = Glibc.write(fd, data + offset, length - offset)
            guard written > 0 else { throw TLSError("cannot write \(path): \(String(cString: strerror(errno)))") }
            offset += written
        }
    }
}
