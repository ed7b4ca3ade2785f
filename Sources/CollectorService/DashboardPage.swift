// The dashboard at `GET /`: one self-contained HTML page (inline CSS and vanilla JS, no CDN, no fonts, no
// framework) that draws its charts as SVG from the JSON read API and streams new readings live over gRPC-Web.
//
// The page is Resources/dashboard.html, an ordinary file for editors and linters, compiled into the binary by
// SwiftPM (`.embedInCode`), so the collector still ships as a single file with no resource bundle. One thing is
// filled in when it is served: the `fw-protocols` block, `{}` in the file, becomes the protocol names of
// `WireProtocol` (so the page spells none itself). The file's final newline is not served.
//
// Every REST request the page makes goes through `api(name, params)` over the templates declared in the
// `<script id="fw-api" type="application/json">` block: the end-to-end test (Tests/Python/test_dashboard.py) reads
// that block and checks each template answers JSON. The page's one other `fetch(` is the live stream (`watchOnce`):
// `POST /telemetry.v1.Telemetry/Watch` as gRPC-Web (`application/grpc-web+proto`, an empty WatchRequest: every
// device, every sensor, from now on), its body read incrementally from a `ReadableStream`. The page decodes the
// 5-byte frames, the trailer frame and Trailers-Only answers, and the DeviceBatch protobuf itself (varints, zigzag,
// packed fields, `packed_deltas`) and rebuilds each reading as the .proto says.
//
// Live and polling: while the stream is open (mode "live" in the header) each batch's readings extend the open
// device's charts, and the bandwidth panels are re-read at most once a second while readings arrive; the device
// table and health keep a 5 s timer. Where streaming is unavailable (no `ReadableStream`, the request fails, a
// grpc-status other than OK such as UNIMPLEMENTED or UNAUTHENTICATED, the stream ends) the mode is "polling":
// everything is re-read every 5 s as before, and the stream is tried again with backoff (1 s doubling to 60 s).
// A fleet too busy to watch whole (the collector ends a watcher that falls behind with RESOURCE_EXHAUSTED) is
// followed one device at a time from then on: the open device only, the stream restarted when another is opened.
// `window.fwLive` ({mode, watching, messages, readings, devices, lastDevice, lastSeq, attempts, error}), mirrored
// as JSON in `<pre id="fw-live-status" hidden>`, says what the stream did: Tests/Python/test_dashboard_browser.py
// reads it from headless Chromium.
//
// Authentication: with auth on, `GET /` needs the admin token, and a browser cannot set a header when it
// navigates, so the page is opened as `/?token=<admin token>`. The page reads the token from its own address and
// sends it as `Authorization: Bearer …` on every API request and on the Watch stream (which needs the admin token
// too); it never puts it in an API URL. The response carries
// `Referrer-Policy: no-referrer`, so the page's address (with the token) is not sent on as a Referer.
//
// What it shows:
//   * bytes per reading per protocol (GET /v1/bandwidth) as bars, with the ratio to the cheapest protocol and the
//     share of headers, framing and payload;
//   * bandwidth over time per protocol (GET /v1/bandwidth/history, 10 s buckets over the last 30 minutes) as
//     stacked bars, one per bucket with its own value, the bucket still filling drawn paler; read whole once, then
//     only from 20 s before the previous read (so a read every second while live is a few rows); "no history yet"
//     while that answers 404;
//   * a sortable device table (GET /v1/bandwidth/devices, using its sort/limit when the server has them, sorting
//     in the browser either way) with a sparkline per visible row (GET /v1/devices/{d}/series, at most 50 rows);
//   * a device view (click a row): one small chart per sensor (GET /v1/devices/{d} then .../series per sensor),
//     extended by the stream's readings (each folded into its series bucket) while live.
// Colours are the Okabe–Ito palette (distinguishable with the common colour-vision deficiencies); it has eight
// colours for more protocols, so a protocol sharing its colour with a relative is also striped or dashed
// (grpc-web-text beside grpc-web, watch beside query), and every coloured mark also carries its protocol's name
// in text.

import Accounting


/// The dashboard page served at `GET /`.
enum DashboardPage {
    /// The response for `GET /` (HEAD gets the same headers; the transport drops the body).
static var response: RESTResponse {
        RESTResponse(
            status: 200,
            headers: [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-cache"),
                      ("referrer-policy", "no-referrer")],
            body: Array(html.utf8))
    }

    /// The `fw-protocols` block as Resources/dashboard.html holds it.
    static let protocolsPlaceholder = "<script id=\"fw-protocols\" type=\"application/json\">\n{}\n</script>"

    /// The page itself: the file, its protocol names filled in.
    static let html: String = {
        var file = PackageResources.dashboard_html[...]
        if file.last == UInt8(ascii: "\n") { file = file.dropLast() }
        let filled = "<script id=\"fw-protocols\" type=\"application/json\">\n\(WireProtocol.namesJSON)\n</script>"
        return String(decoding: file, as: UTF8.self).replacing(protocolsPlaceholder, with: filled)
    }()
}
