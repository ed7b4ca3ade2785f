/// How a parser hands body payload to its caller.
public enum HTTPBodyDelivery: Sendable, Equatable {
    /// The parser collects the body (at most `maxBodyBytes`, so at most 1 MiB by default) and hands it over whole in
    /// the `.end` event: the simple choice for a server that wants the whole body.
    case accumulated
    /// The parser hands out payload in `.body` events as it arrives; `.end` carries an empty body.
    case streamed
}
