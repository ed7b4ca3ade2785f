import Accounting
import GRPC

extension TelemetryMethod {
    /// The bandwidth report's protocol for calls of this method. (`protocolName` in GRPC spells the same names; it
    /// goes once the gRPC layer no longer carries accounting names.)
    var wireProtocol: WireProtocol {
        switch self {
        case .upload: .grpcStream
        case .push: .grpcUnary
        case .sync: .grpcSync
        }
    }
}

extension WireProtocol {
    /// The bandwidth report's protocol for gRPC-Web calls in `encoding`.
    init(web encoding: GRPCWebFraming.Encoding) {
        self = encoding == .binary ? .grpcWeb : .grpcWebText
    }
}
