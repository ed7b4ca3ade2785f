// What a grpc-web, grpc-web-text or connect Push's answer means for the device.
//
// gRPC-Web: the answer is judged as gRPC's (GRPCWebClientResponse, then TelemetryClientResponse's rules): OK with one
// Ack is success, any other grpc-status (in the trailer frame or, Trailers-Only, in the headers) is that status, and
// a non-200 without grpc-status maps as gRPC maps HTTP statuses. The body's encoding is the response's content type
// when it is a gRPC-Web type, else the request's.
// Connect: 200 is the bare Ack in the request's codec (a response in another codec is malformed); anything else is
// the error its `{"code","message"}` body names, or, when the body names none (a proxy's page), the code its HTTP
// status maps to as in gRPC (`GRPCStatus(connectErrorBody:httpStatus:)`, GRPC's rule for Connect clients). Either
// way the failure is `DeviceFailure.grpcStatus`, so retries and authentication refusals follow the device's gRPC
// rules: unavailable and resource_exhausted (503, 429, and a bare 502/504) are retried.

import GRPC
import HTTP1
import Simulation
import Telemetry

extension WebPush {
    /// The outcome of a Push answered with `status`, `headers` and the whole `body`.
    func outcome(status: Int, headers: HTTPHeaders, body: [UInt8]) -> CallOutcome {
        switch self {
        case .grpcWeb(let requested):
            let encoding = headers["content-type"].flatMap(GRPCWebFraming.encoding(ofContentType:)) ?? requested
            var response = GRPCWebClientResponse(encoding: encoding)
            response.receiveHead(httpStatus: status, GRPCMetadata(headers))
            response.receiveBody(body)
            switch response.outcome() {
            case .success(let ack): return .acked(ack)
            case .failure(let status): return .failed(.grpcStatus(status.code.rawValue))
            }
        case .connect(let codec):
            guard status == 200 else {
                return .failed(.grpcStatus(GRPCStatus(connectErrorBody: body, httpStatus: status).code.rawValue))
            }
            if let type = headers["content-type"],
                ConnectProtocol.unaryCodec(ofContentType: type) != codec.protocolCodec
            {
                return .failed(.malformedResponse)
            }
            let ack: Ack?
            switch codec {
            case .proto: ack = try? Ack(protobuf: body)
            case .json: ack = try? Ack(protoJSON: body)
            }
            return ack.map { .acked($0) } ?? .failed(.malformedResponse)
        }
    }
}
