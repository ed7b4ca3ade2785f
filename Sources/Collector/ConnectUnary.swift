// TEMPORARY: replaced by the Connect pieces of GRPC once merged.
import CollectorService
import GRPC
import Telemetry

enum ConnectCodec: Equatable {
    case proto, json
    init?(contentType: String) {
        let type = contentType.split(separator: ";").first.map { $0.lowercased() } ?? ""
        switch type {
        case "application/proto": self = .proto
        case "application/json": self = .json
        default: return nil
        }
    }
}

enum ConnectProtocol {
    static func grpcTimeout(connectTimeoutMs: String) -> String { "\(connectTimeoutMs)m" }
    static func versionProblem(_ value: String?) -> String? { nil }
    static func framedRequest(_ body: [UInt8], codec: ConnectCodec, limits: DecodeLimits) -> Result<[UInt8], GRPCStatus> {
        .success(GRPCMessageFramer.frame(body))
    }
    static func errorResponse(_ status: GRPCStatus) -> RESTResponse {
        RESTResponse.json(400, Array("{\"code\":\"x\"}".utf8))
    }
    static func ackResponse(_ message: [UInt8], codec: ConnectCodec) -> RESTResponse {
        RESTResponse(status: 200, headers: [("content-type", "application/proto")], body: message)
    }
}
