// Fuzzes the HTTP/1.1 request parser (the collector's REST side) and response parser (the simulator's side) with
// properties that must hold for every input, under the standard limits or under tight ones that inputs reach:
//
// - Arrival independence: fed whole, one byte at a time, split in two at a random point and in random pieces
//   (with streamed and accumulated body delivery), a parser reports the same events at the same byte offsets,
//   consumes the same bytes and ends in the same state.
// - The calling contract on every step: no step consumes more than it was given, `.needMoreData` consumes all.
// - Accounting on every step: bytes consumed = interim heads + completed messages + the message in progress.
// - Limits: what a parser buffers between calls (head, body, chunk-size line, trailers) never exceeds its limit;
//   no reported head, body or field list exceeds its limit; a body matches its Content-Length and its payload count.
// - Round trip: a parsed request or response, written again by our serializer, parses to the same method, target,
//   status, fields and body.
// - What the router reads: every field is found by its name; path segments and query items decode without trapping.

/// Limits small enough that fuzzed inputs reach every one of them.
let tightLimits = HTTPLimits(
    maxStartLineBytes: 40, maxHeaderSectionBytes: 120, maxHeaderFields: 4, maxBodyBytes: 100, maxChunkLineBytes: 12,
    maxLeadingEmptyLines: 2)

/// One libFuzzer input: the bytes a peer sends on one connection, read by both parsers.
func fuzzOneInput(_ input: UnsafeRawBufferPointer) {
    var random = FuzzRandom(seededBy: input)
    let headRequests = random.below(3)
    // One set of limits per input (which one depends on the input's hash) halves the work per input.
    let limits = random.below(2) == 0 ? HTTPLimits.standard : tightLimits
    let requests = checkArrivalIndependence(HTTPRequestParser.self, input, limits: limits, random: &random)
    checkRequestReserialization(requests)
    checkRequestAccessors(requests)
    let responses = checkArrivalIndependence(
        HTTPResponseParser.self, input, limits: limits, random: &random,
        prepare: { parser in for _ in 0..<headRequests { parser.expectResponse(to: "HEAD") } })
    if headRequests == 0 { checkResponseReserialization(responses) }
}

/// Feeds the input in five arrival patterns and requires identical transcripts; returns the whole-input one.
func checkArrivalIndependence<Parser: FuzzedHTTPParser>(
    _ type: Parser.Type, _ input: UnsafeRawBufferPointer, limits: HTTPLimits, random: inout FuzzRandom,
    prepare: (inout Parser) -> Void = { _ in }
) -> Transcript<Parser.Event> {
    let count = input.count
    let reference = feed(
        type, input, pieces: ArrivalPattern.whole(count), limits: limits, delivery: .accumulated,
        prepare: prepare)
    let patterns: [(String, [Int], HTTPBodyDelivery)] = [
        ("whole, streamed", ArrivalPattern.whole(count), .streamed),
        ("byte by byte", ArrivalPattern.byteByByte(count), .accumulated),
        ("two pieces, streamed", ArrivalPattern.twoPieces(count, &random), .streamed),
        ("random pieces", ArrivalPattern.randomPieces(count, &random), .accumulated),
        ("random pieces, streamed", ArrivalPattern.randomPieces(count, &random), .streamed),
    ]
    for (name, pieces, delivery) in patterns {
        let transcript = feed(type, input, pieces: pieces, limits: limits, delivery: delivery, prepare: prepare)
        require(
            transcript == reference,
            "\(Parser.self) \(name) \(pieces.prefix(8)) differs from whole input:\n"
                + "\(transcript)\nvs\n\(reference)")
    }
    return reference
}

/// Roomy limits for parsing what the serializer wrote (it adds Host, Content-Length and Connection fields).
let reparseLimits = HTTPLimits(maxHeaderSectionBytes: 1 << 20, maxHeaderFields: 1000)

/// The fields a serializer owns, which it drops from the caller's list and writes itself.
func isFramingField(_ headers: HTTPHeaders, at position: Int, alsoHost: Bool) -> Bool {
    let names: [StaticString] = ["content-length", "transfer-encoding", "connection", "host"]
    return names.prefix(alsoHost ? 4 : 3).contains {
        FramingFields.equalsIgnoringCase(headers.nameBytes(at: position), $0)
    }
}

/// The caller's fields without those the serializer owns.
func callerFields(_ headers: HTTPHeaders, alsoHost: Bool) -> HTTPHeaders {
    var kept = HTTPHeaders()
    for position in headers.indices where !isFramingField(headers, at: position, alsoHost: alsoHost) {
        kept.storage.append(contentsOf: headers.nameBytes(at: position))
        let nameEnd = kept.storage.count
        kept.storage.append(contentsOf: headers.valueBytes(at: position))
        kept.ranges.append(
            HTTPHeaders.FieldRange(
                nameStart: nameEnd - headers.nameBytes(at: position).count, nameEnd: nameEnd, valueStart: nameEnd,
                valueEnd: kept.storage.count))
    }
    return kept
}

/// Every complete HTTP/1.1 request, serialized again and parsed, keeps its method, target, fields and body.
func checkRequestReserialization(_ transcript: Transcript<HTTPRequestParser.Event>) {
    var head: HTTPRequestHead?
    for stamped in transcript.events {
        switch stamped.event {
        case .head(let parsed): head = parsed
        case .end(let end):
            // The serializer speaks HTTP/1.1 only, and 1.0 gives some fields other meanings (Expect is ignored).
            guard let request = head, request.version.isAtLeastHTTP1_1,
                let hostIndex = request.headers.firstIndex(named: "host")
            else { continue }
            let host = String(decoding: request.headers.valueBytes(at: hostIndex), as: UTF8.self)
            let bytes = HTTPRequestSerializer.makeRequest(
                method: request.method, target: request.target, host: host, headers: request.headers, body: end.body,
                isClosing: !request.isKeepAlive)
            var parser = HTTPRequestParser(limits: reparseLimits)
            let headStep = parser.parse(bytes)
            guard case .head(let again) = headStep.event else {
                return require(false, "re-serialized request does not parse: \(headStep) from \(request)")
            }
            require(again.method == request.method && again.target == request.target, "method or target changed")
            require(again.isKeepAlive == request.isKeepAlive, "persistence changed")
            require(
                callerFields(again.headers, alsoHost: true) == callerFields(request.headers, alsoHost: true),
                "fields changed: \(again.headers) vs \(request.headers)")
            let endStep = parser.parse(bytes[headStep.consumed...])
            guard case .end(let endAgain) = endStep.event else { return require(false, "no end: \(endStep)") }
            require(endAgain.body == end.body, "body changed")
            require(headStep.consumed + endStep.consumed == bytes.count, "serialized request not consumed whole")
        default: continue
        }
    }
}

/// Every complete final response (not 101), serialized again and parsed, keeps its status, fields and body.
func checkResponseReserialization(_ transcript: Transcript<HTTPResponseParser.Event>) {
    var head: HTTPResponseHead?
    for stamped in transcript.events {
        switch stamped.event {
        case .head(let parsed): head = parsed
        case .end(let end):
            guard let response = head, response.status.code != 101 else { continue }
            let bytes = HTTPResponseSerializer.makeResponse(
                status: response.status, version: response.version, headers: response.headers, body: end.body,
                isClosing: !response.isKeepAlive)
            var parser = HTTPResponseParser(limits: reparseLimits)
            let headStep = parser.parse(bytes)
            guard case .head(let again) = headStep.event else {
                return require(false, "re-serialized response does not parse: \(headStep) from \(response)")
            }
            // The serializer writes the version we speak: HTTP/1.1, or HTTP/1.0 to a 1.0 peer (never `HTTP/1.2`).
            let version: HTTPVersion = response.version.isAtLeastHTTP1_1 ? .http1_1 : .http1_0
            require(again.status == response.status && again.version == version, "status line changed")
            require(
                callerFields(again.headers, alsoHost: false) == callerFields(response.headers, alsoHost: false),
                "fields changed: \(again.headers) vs \(response.headers)")
            let endStep = parser.parse(bytes[headStep.consumed...])
            guard case .end(let endAgain) = endStep.event else { return require(false, "no end: \(endStep)") }
            require(endAgain.body == end.body, "body changed")
        default: continue
        }
    }
}

/// What the router reads from a parsed head: every field is found by its own name, no earlier than its position;
/// the target's path and query split and decode without trapping, a piece without `%` decoding to itself.
func checkRequestAccessors(_ transcript: Transcript<HTTPRequestParser.Event>) {
    for stamped in transcript.events {
        guard case .head(let head) = stamped.event else { continue }
        for position in head.headers.indices {
            let name = String(decoding: head.headers.nameBytes(at: position), as: UTF8.self)
            require(head.headers.hasName(name.uppercased(), at: position), "field \(name) not found by its name")
            require((head.headers.firstIndex(named: name) ?? Int.max) <= position, "lookup of \(name) missed it")
        }
        let path = head.path
        if let segments = PercentDecoding.pathSegments(path) {
            let rest = path.first == "/" ? path.dropFirst() : path[...]
            let expected = rest.isEmpty ? 0 : rest.split(separator: "/", omittingEmptySubsequences: false).count
            require(segments.count == expected, "\(segments.count) segments in \(path)")
        }
        if let query = head.query { _ = PercentDecoding.queryItems(query) }
        for segment in path.split(separator: "/") where !segment.contains("%") {
            require(PercentDecoding.decode(segment) == String(segment), "decoding changed \(segment)")
        }
    }
}
