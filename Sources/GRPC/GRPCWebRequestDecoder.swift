/// A request body's bytes on their way to a call's deframer, whatever the request's encoding: gRPC's and binary
/// gRPC-Web's as they are (no copy), grpc-web-text's decoded from base64 as they arrive (GRPCWebText). One type, so
/// every transport (HTTP/2 streams, the HTTP/1.1 exchange) decodes bodies and refuses bad text the same way.
public struct GRPCWebRequestDecoder: Sendable {
    private var text: GRPCWebText?

    /// A decoder for a body in `encoding` (nil: gRPC).
    public init(_ encoding: GRPCWebFraming.Encoding?) {
        text = encoding == .text ? GRPCWebText() : nil
    }

    /// Hands `piece`'s frame bytes to `deliver`; returns the INVALID_ARGUMENT status naming where the text is not
    /// base64 (nothing is delivered from that piece then).
    public mutating func decode(_ piece: UnsafeRawBufferPointer, into deliver: (UnsafeRawBufferPointer) -> Void)
        -> GRPCStatus?
    {
        guard text != nil else {
            deliver(piece)
            return nil
        }
        do throws(GRPCWebText.DecodeError) {
            let decoded = try text!.decode(piece)
            decoded.withUnsafeBytes { deliver($0) }
            return nil
        } catch {
            return GRPCStatus(.invalidArgument, error.description)
        }
    }

    /// The body ended: the status refusing a text body that ended inside a base64 group, else nil.
    public func finish() -> GRPCStatus? {
        do throws(GRPCWebText.DecodeError) {
            try text?.finish()
            return nil
        } catch {
            return GRPCStatus(.invalidArgument, error.description)
        }
    }
}
