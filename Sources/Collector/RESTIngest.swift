// The checks every ingest request must pass before its body is decoded.

import Telemetry

/// Validation of an ingest request before and while decoding its body.
public enum RESTIngest {
    /// Checks the content type and decodes the batch; every refusal names the problem.
    public static func batch(from request: RESTRequest, limits: DecodeLimits) throws(RESTError) -> ReadingBatch {
        guard let contentType = request.header("content-type") else {
            throw RESTError(415, "unsupported_media_type", "Content-Type must be application/json (none given)")
        }
        let mediaType = contentType.split(separator: ";", maxSplits: 1)[0].trimmingSpaces.lowercased()
        guard mediaType == "application/json" else {
            throw RESTError(415, "unsupported_media_type", "Content-Type must be application/json, got \(contentType)")
        }
        guard request.body.count <= limits.maxMessageBytes else {
            throw RESTError(413, "payload_too_large", "body of \(request.body.count) bytes exceeds \(limits.maxMessageBytes)")
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
