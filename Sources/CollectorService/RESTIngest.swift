// The checks every ingest request must pass before its body is decoded, written once for both transports.
//
// Content-Type: the media type (before any `;` parameters, case-insensitive) must be `application/json`; the 415
// names what was sent. HTTP/1.1 applies the check at the request head, so a client that asked for
// `100 Continue` is refused before sending its body; every ingest request, over HTTP/1.1 or h2c, passes it again in
// `batch(from:limits:)` before its body is decoded (for h2c that is where it is applied).

import Telemetry

/// Validation of an ingest request before and while decoding its body.
public enum RESTIngest {
    /// The refusal (415) of an ingest request with this `Content-Type` value, or nil when it is JSON.
    public static func contentTypeRefusal(_ contentType: String?) -> RESTError? {
        guard let contentType else {
            return RESTError(415, "unsupported_media_type", "Content-Type must be application/json (none given)")
        }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first?.trimmingSpaces.lowercased() ?? ""
        guard mediaType == "application/json" else {
            return RESTError(415, "unsupported_media_type", "Content-Type must be application/json, got \(contentType)")
        }
        return nil
    }

    /// Checks the content type and decodes the batch; every refusal names the problem.
    public static func batch(from request: RESTRequest, limits: DecodeLimits) throws(RESTError) -> ReadingBatch {
        if let refusal = contentTypeRefusal(request.header("content-type")) { throw refusal }
        guard request.body.count <= limits.maxMessageBytes else {
            throw RESTError(413, "payload_too_large",
                            "body of \(request.body.count) bytes exceeds \(limits.maxMessageBytes)")
        }
        do {
            return try ReadingBatch(json: request.body, limits: limits)
        } catch {
            throw .badRequest(error.description)
        }
    }

    /// The Ack as the response body.
    public static func response(_ ack: Ack) -> RESTResponse { .json(200, ack.jsonBytes()) }
}
