"""The OpenAPI contract (schema/openapi.yaml) against itself and against a running collector.

- The document is valid OpenAPI 3.1 (openapi-spec-validator) and every example in it matches its schema.
- Real responses of the collector (after REST ingest, so there is data) for every implemented endpoint, 200 and
  error cases (400, 404, 405, 411, 415), match the documented status, content type, headers and body schema
  (schemas resolved from the document and checked with openapi-schema-validator's OAS31Validator).
- A bounded schemathesis run (fixed seed, few examples per operation, one worker) against a running collector:
  no 5xx, no dropped connection, documented status codes, content types, headers and body schemas.

Endpoints and features still being implemented (/readyz, /metrics, /v1/bandwidth/devices/{device},
/v1/bandwidth/history, sort/order/limit on /v1/bandwidth/devices, CSV) are probed first and their tests skipped,
saying so, only while the collector answers them with a "no endpoint" 404 (or ignores the feature).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.parse

import pytest
import yaml
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import OpenAPIV31SpecValidator

import fwtest
from fwtest import CALL_TIMEOUT, REPO_ROOT, Collector, http_request

SPEC_PATH = REPO_ROOT / "schema" / "openapi.yaml"
SPEC = yaml.safe_load(SPEC_PATH.read_text())
HERE = os.path.dirname(os.path.abspath(__file__))

NOT_YET = {  # endpoint → a path to probe it with
    "/readyz": "/readyz",
    "/metrics": "/metrics",
    "/v1/bandwidth/devices/{device}": "/v1/bandwidth/devices/probe-device",
    "/v1/bandwidth/history": "/v1/bandwidth/history",
}

T0 = 1_732_190_000_000


# -- the document ------------------------------------------------------------------------------------------------


def validator(schema: dict) -> OAS31Validator:
    """An OAS 3.1 validator for `schema` with the document's components reachable by `#/components/...`."""
    root = {"allOf": [schema], "components": SPEC["components"]}
    return OAS31Validator(root, format_checker=OAS31Validator.FORMAT_CHECKER)


def errors(schema: dict, instance) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in validator(schema).iter_errors(instance)]


def node_ref_parts(ref: str):
    assert ref.startswith("#/"), ref
    return [p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/")]


def deref(node: dict) -> dict:
    """Follows local `$ref`s of a response, parameter or header object."""
    while isinstance(node, dict) and "$ref" in node:
        target = SPEC
        for part in node_ref_parts(node["$ref"]):
            target = target[part]
        node = target
    return node


def test_spec_is_valid_openapi_3_1():
    assert SPEC["openapi"].startswith("3.1.")
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in OpenAPIV31SpecValidator(SPEC).iter_errors()]
    assert not problems, "\n".join(problems)


def test_spec_documents_every_endpoint_of_the_api_shapes():
    expected = {
        ("post", "/v1/devices/{device}/readings"), ("get", "/v1/devices/{device}/readings"),
        ("get", "/v1/devices"), ("get", "/v1/devices/{device}"), ("get", "/v1/devices/{device}/series"),
        ("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"), ("get", "/v1/bandwidth"),
        ("get", "/v1/bandwidth/devices"), ("get", "/v1/bandwidth/devices/{device}"),
        ("get", "/v1/bandwidth/history"), ("get", "/"),
    }
    documented = {(m, p) for p, item in SPEC["paths"].items() for m in item if m in ("get", "post", "put", "delete")}
    assert documented == expected
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            for status, response in op["responses"].items():
                response = deref(response)
                if status != "200":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
            assert "405" in op["responses"] and "Allow" in deref(op["responses"]["405"])["headers"]


def _examples():
    """(where, schema, example) for every example in the document."""
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            body = op.get("requestBody", {}).get("content", {})
            for media, content in body.items():
                for name, ex in content.get("examples", {}).items():
                    yield f"{method} {path} request {name}", content["schema"], ex["value"]
            for status, response in op["responses"].items():
                response = deref(response)
                for media, content in response.get("content", {}).items():
                    where = f"{method} {path} {status} {media}"
                    assert "example" in content or "examples" in content, f"no example: {where}"
                    if "example" in content:
                        yield where, content["schema"], content["example"]
                    for name, ex in content.get("examples", {}).items():
                        yield f"{where} {name}", content["schema"], ex["value"]
                for hname, header in response.get("headers", {}).items():
                    header = deref(header)
                    yield f"{method} {path} {status} header {hname}", header["schema"], header["example"]
            for parameter in item.get("parameters", []) + op.get("parameters", []):
                parameter = deref(parameter)
                if "example" in parameter:
                    yield f"{method} {path} parameter {parameter['name']}", parameter["schema"], parameter["example"]
    for name, schema in SPEC["components"]["schemas"].items():
        for i, ex in enumerate(schema.get("examples", [])):
            yield f"components/schemas/{name} example {i}", {"$ref": f"#/components/schemas/{name}"}, ex


def test_every_example_matches_its_schema():
    seen, bad = 0, []
    for where, schema, example in _examples():
        seen += 1
        bad += [f"{where}: {e}" for e in errors(schema, example)]
    assert seen > 50
    assert not bad, "\n".join(bad)


# -- a collector with data ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """One collector for the module's response checks, with REST-ingested data for dev-1 and dev-2."""
    import conftest  # the session watchdog kills what it lists

    tmp = tmp_path_factory.mktemp("openapi")
    collector = Collector(tmp / "telemetry.db", tmp / "collector.log")
    conftest._all_collectors.append(collector)
    try:
        collector.start()
        seed(collector)
        yield collector
        collector.stop()
    finally:
        collector.kill()
        conftest._all_collectors.remove(collector)


def seed(collector: Collector) -> None:
    for device, seq in (("dev-1", 1), ("dev-1", 2), ("dev-2", 1)):
        readings = [{"sensor": s, "ts": T0 + seq * 10_000 + i * 1000, "value": 20.5 + i}
                    for s in ("temperature", "humidity") for i in range(5)]
        r = http_request(collector, "POST", f"/v1/devices/{device}/readings", {"seq": seq, "readings": readings})
        assert r.status == 200, r.body


def probe_absent(collector: Collector, template: str) -> bool:
    """True when the collector answers the endpoint with a 'no endpoint' 404 (not implemented in this build)."""
    r = http_request(collector, "GET", NOT_YET[template])
    if r.status != 404:
        return False
    try:
        return r.json().get("message", "").startswith("no endpoint")
    except ValueError:
        return False


def skip_if_absent(collector: Collector, template: str) -> None:
    if probe_absent(collector, template):
        pytest.skip(f"{template} is not implemented in this collector yet (GET answers 404 'no endpoint'); "
                    "it is being implemented on main")


def operation(method: str, template: str) -> dict:
    return SPEC["paths"][template][method.lower()]


def check_response(method: str, template: str, r: fwtest.Response) -> None:
    """The response's status, content type, headers and body match the document's operation."""
    op = operation(method, template)
    where = f"{method} {template} → {r.status} {r.body[:300]!r}"
    assert str(r.status) in op["responses"], f"undocumented status: {where}"
    response = deref(op["responses"][str(r.status)])
    media = r.headers.get("content-type", "").split(";")[0].strip().lower()
    assert media in response["content"], f"undocumented content type {media!r}: {where}"
    for name, header in response.get("headers", {}).items():
        header = deref(header)
        value = r.headers.get(name.lower())
        if header.get("required"):
            assert value is not None, f"missing header {name}: {where}"
        if value is not None:
            assert not errors(header["schema"], value), f"header {name}: {value!r}: {where}"
    schema = response["content"][media]["schema"]
    body = r.json() if media == "application/json" else r.body.decode()
    bad = errors(schema, body)
    assert not bad, f"{where}\n" + "\n".join(bad)


def raw_request(collector: Collector, data: bytes) -> fwtest.Response:
    """Sends raw HTTP/1.1 bytes and parses the one response (Connection: close framing)."""
    with socket.create_connection(("127.0.0.1", collector.port), timeout=CALL_TIMEOUT) as s:
        s.sendall(data)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            head, sep, rest = b"".join(chunks).partition(b"\r\n\r\n")
            if sep:
                headers = dict(
                    (k.strip().lower(), v.strip()) for k, v in
                    (line.split(":", 1) for line in head.decode("latin-1").split("\r\n")[1:] if ":" in line))
                if len(rest) >= int(headers.get("content-length", "0")):
                    status = int(head.split(b" ", 2)[1])
                    return fwtest.Response(status, "1.1", headers, rest[:int(headers.get("content-length", "0"))])
    raise AssertionError(f"no complete response to {data!r}: {b''.join(chunks)!r}")


JSON = {"Content-Type": "application/json"}
BATCH = {"seq": 9, "readings": [{"sensor": "temperature", "ts": T0, "value": 1.5}]}

# (id, method, path template, path, body, headers, expected status)
CASES = [
    ("ingest-200", "POST", "/v1/devices/{device}/readings", "/v1/devices/dev-3/readings", BATCH, None, 200),
    ("ingest-duplicate-200", "POST", "/v1/devices/{device}/readings", "/v1/devices/dev-1/readings",
     {"seq": 1, "readings": []}, None, 200),
    ("ingest-unknown-key-400", "POST", "/v1/devices/{device}/readings", "/v1/devices/dev-3/readings",
     {"seq": 10, "readings": [], "extra": 1}, None, 400),
    ("ingest-bad-sensor-400", "POST", "/v1/devices/{device}/readings", "/v1/devices/dev-3/readings",
     {"seq": 10, "readings": [{"sensor": "Temp", "ts": 1, "value": 1}]}, None, 400),
    ("ingest-seq-0-400", "POST", "/v1/devices/{device}/readings", "/v1/devices/dev-3/readings",
     {"seq": 0, "readings": []}, None, 400),
    ("ingest-bad-device-400", "POST", "/v1/devices/{device}/readings", "/v1/devices/bad%20id/readings",
     BATCH, None, 400),
    ("ingest-text-plain-415", "POST", "/v1/devices/{device}/readings", "/v1/devices/dev-3/readings",
     b'{"seq":11,"readings":[]}', {"Content-Type": "text/plain"}, 415),
    ("ingest-no-content-type-415", "POST", "/v1/devices/{device}/readings", "/v1/devices/dev-3/readings",
     b'{"seq":11,"readings":[]}', {}, 415),
    ("ingest-put-405", "PUT", "/v1/devices/{device}/readings", "/v1/devices/dev-3/readings", BATCH, None, 405),
    ("readings-200", "GET", "/v1/devices/{device}/readings", "/v1/devices/dev-1/readings?limit=3&order=desc",
     None, None, 200),
    ("readings-rfc3339-200", "GET", "/v1/devices/{device}/readings",
     "/v1/devices/dev-1/readings?sensor=humidity&from=2024-11-21T12:00:00Z&to=2030-01-01T00:00:00.5%2B01:00",
     None, None, 200),
    ("readings-bad-from-400", "GET", "/v1/devices/{device}/readings", "/v1/devices/dev-1/readings?from=yesterday",
     None, None, 400),
    ("readings-limit-0-400", "GET", "/v1/devices/{device}/readings", "/v1/devices/dev-1/readings?limit=0",
     None, None, 400),
    ("readings-bad-cursor-400", "GET", "/v1/devices/{device}/readings", "/v1/devices/dev-1/readings?cursor=zz",
     None, None, 400),
    ("readings-unknown-device-404", "GET", "/v1/devices/{device}/readings", "/v1/devices/nobody/readings",
     None, None, 404),
    ("devices-200", "GET", "/v1/devices", "/v1/devices", None, None, 200),
    ("devices-page-200", "GET", "/v1/devices", "/v1/devices?limit=1&prefix=dev-", None, None, 200),
    ("devices-limit-1001-400", "GET", "/v1/devices", "/v1/devices?limit=1001", None, None, 400),
    ("devices-post-405", "POST", "/v1/devices", "/v1/devices", BATCH, None, 405),
    ("device-200", "GET", "/v1/devices/{device}", "/v1/devices/dev-1", None, None, 200),
    ("device-404", "GET", "/v1/devices/{device}", "/v1/devices/nobody", None, None, 404),
    ("device-bad-id-400", "GET", "/v1/devices/{device}", "/v1/devices/%2F%2F", None, None, 400),
    ("device-delete-405", "DELETE", "/v1/devices/{device}", "/v1/devices/dev-1", None, None, 405),
    ("series-200", "GET", "/v1/devices/{device}/series",
     "/v1/devices/dev-1/series?sensor=temperature&step=10s&agg=max", None, None, 200),
    ("series-count-200", "GET", "/v1/devices/{device}/series",
     f"/v1/devices/dev-1/series?sensor=humidity&from={T0}&to={T0 + 3_600_000}&step=1h&agg=count", None, None, 200),
    ("series-no-sensor-400", "GET", "/v1/devices/{device}/series", "/v1/devices/dev-1/series", None, None, 400),
    ("series-bad-agg-400", "GET", "/v1/devices/{device}/series",
     "/v1/devices/dev-1/series?sensor=temperature&agg=median", None, None, 400),
    ("series-bad-step-400", "GET", "/v1/devices/{device}/series",
     "/v1/devices/dev-1/series?sensor=temperature&step=0", None, None, 400),
    ("series-unknown-device-404", "GET", "/v1/devices/{device}/series",
     "/v1/devices/nobody/series?sensor=temperature", None, None, 404),
    ("bandwidth-200", "GET", "/v1/bandwidth", "/v1/bandwidth", None, None, 200),
    ("bandwidth-post-405", "POST", "/v1/bandwidth", "/v1/bandwidth", BATCH, None, 405),
    ("bandwidth-devices-200", "GET", "/v1/bandwidth/devices", "/v1/bandwidth/devices", None, None, 200),
    ("bandwidth-devices-protocol-200", "GET", "/v1/bandwidth/devices", "/v1/bandwidth/devices?protocol=rest-json",
     None, None, 200),
    ("bandwidth-devices-delete-405", "DELETE", "/v1/bandwidth/devices", "/v1/bandwidth/devices", None, None, 405),
    ("healthz-200", "GET", "/healthz", "/healthz", None, None, 200),
    ("healthz-post-405", "POST", "/healthz", "/healthz", BATCH, None, 405),
]

# Parameters whose 400 must name them (the contract: "a bad query parameter is a 400 whose message names it").
NAMED = {"readings-bad-from-400": "from", "readings-limit-0-400": "limit", "readings-bad-cursor-400": "cursor",
         "devices-limit-1001-400": "limit", "series-no-sensor-400": "sensor", "series-bad-agg-400": "agg",
         "series-bad-step-400": "step"}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_real_response_matches_the_spec(fleet, case):
    name, method, template, path, body, headers, expected = case
    r = http_request(fleet, method, path, body=body, headers=headers)
    assert r.status == expected, (name, r.status, r.body)
    # A 405 is documented on the path's operations (with its Allow header) whatever the method.
    check_response(method if method.lower() in SPEC["paths"][template] else "GET", template, r)
    if r.status >= 400:
        assert r.json()["error"] == deref(operation(method if method.lower() in SPEC["paths"][template] else "GET",
                                                    template)["responses"][str(r.status)])["content"][
            "application/json"]["example"]["error"]
    if name in NAMED:
        assert NAMED[name] in r.json()["message"], r.body
    if r.status == 405:
        allowed = r.headers["allow"].split(", ")
        documented = {m.upper() for m in SPEC["paths"][template] if m != "parameters"}
        assert documented <= set(allowed) and method not in allowed, (r.headers["allow"], documented)


def test_length_required_411(fleet):
    r = raw_request(fleet, b"POST /v1/devices/dev-3/readings HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Type: application/json\r\nConnection: close\r\n\r\n")
    assert r.status == 411, r.body
    check_response("POST", "/v1/devices/{device}/readings", r)


def test_no_endpoint_404_is_an_error_body(fleet):
    r = http_request(fleet, "GET", "/v1/nothing-here")
    assert r.status == 404 and r.headers["content-type"].startswith("application/json")
    assert not errors({"$ref": "#/components/schemas/Error"}, r.json())
    assert r.json()["error"] == "not_found"


def test_paging_follows_the_documented_cursors(fleet):
    page = http_request(fleet, "GET", "/v1/devices?limit=1")
    check_response("GET", "/v1/devices", page)
    assert page.json()["next_cursor"] == "dev-1"
    last = http_request(fleet, "GET", "/v1/devices?limit=1&cursor=" + page.json()["next_cursor"])
    check_response("GET", "/v1/devices", last)
    assert [d["device"] for d in last.json()["devices"]] == ["dev-2"]
    r = http_request(fleet, "GET", "/v1/devices/dev-1/readings?limit=7")
    check_response("GET", "/v1/devices/{device}/readings", r)
    cursor = r.json()["next_cursor"]
    assert isinstance(cursor, str)
    more = http_request(fleet, "GET", "/v1/devices/dev-1/readings?limit=1000&cursor=" + urllib.parse.quote(cursor))
    check_response("GET", "/v1/devices/{device}/readings", more)
    assert len(r.json()["readings"]) + len(more.json()["readings"]) == 20 and more.json()["next_cursor"] is None


# -- endpoints and features being implemented ------------------------------------------------------------------


def test_readyz(fleet):
    skip_if_absent(fleet, "/readyz")
    r = http_request(fleet, "GET", "/readyz")
    assert r.status == 200, r.body
    check_response("GET", "/readyz", r)
    r = http_request(fleet, "DELETE", "/readyz")
    assert r.status == 405
    check_response("GET", "/readyz", r)


def test_metrics(fleet):
    skip_if_absent(fleet, "/metrics")
    r = http_request(fleet, "GET", "/metrics")
    assert r.status == 200, r.body
    check_response("GET", "/metrics", r)
    assert "fleetwire_" in r.body.decode()


def test_device_bandwidth(fleet):
    skip_if_absent(fleet, "/v1/bandwidth/devices/{device}")
    r = http_request(fleet, "GET", "/v1/bandwidth/devices/dev-1")
    assert r.status == 200, r.body
    check_response("GET", "/v1/bandwidth/devices/{device}", r)
    assert r.json()["device"] == "dev-1"
    assert "rest-json" in {row["protocol"] for row in r.json()["protocols"]}
    r = http_request(fleet, "GET", "/v1/bandwidth/devices/nobody")
    assert r.status == 404, r.body
    check_response("GET", "/v1/bandwidth/devices/{device}", r)


def test_bandwidth_history(fleet):
    skip_if_absent(fleet, "/v1/bandwidth/history")
    r = http_request(fleet, "GET", "/v1/bandwidth/history?step=10s")
    assert r.status == 200, r.body
    check_response("GET", "/v1/bandwidth/history", r)
    assert r.json()["step_ms"] == 10_000
    r = http_request(fleet, "GET", "/v1/bandwidth/history?step=7s")
    assert r.status == 400 and "step" in r.json()["message"], r.body
    check_response("GET", "/v1/bandwidth/history", r)


def test_bandwidth_devices_sort_order_limit(fleet):
    r = http_request(fleet, "GET", "/v1/bandwidth/devices?sort=nonsense")
    if r.status == 200:
        pytest.skip("sort/order/limit on /v1/bandwidth/devices are not implemented in this collector yet "
                    "(?sort=nonsense is answered 200); they are being implemented on main")
    assert r.status == 400 and "sort" in r.json()["message"], r.body
    check_response("GET", "/v1/bandwidth/devices", r)
    r = http_request(fleet, "GET", "/v1/bandwidth/devices?sort=bytes_in&order=desc&limit=1")
    assert r.status == 200, r.body
    check_response("GET", "/v1/bandwidth/devices", r)
    assert len(r.json()["devices"]) == 1
    full = http_request(fleet, "GET", "/v1/bandwidth/devices").json()["devices"]
    assert r.json()["devices"][0]["bytes_in"] == max(row["bytes_in"] for row in full)


CSV_PATHS = [("/v1/devices", "/v1/devices"), ("/v1/devices/{device}/readings", "/v1/devices/dev-1/readings"),
             ("/v1/devices/{device}/series", "/v1/devices/dev-1/series?sensor=temperature"),
             ("/v1/bandwidth", "/v1/bandwidth"), ("/v1/bandwidth/devices", "/v1/bandwidth/devices")]


@pytest.mark.parametrize("template,path", CSV_PATHS, ids=[t for t, _ in CSV_PATHS])
def test_csv_alternative(fleet, template, path):
    sep = "&" if "?" in path else "?"
    r = http_request(fleet, "GET", path + sep + "format=csv")
    if r.status == 200 and r.headers.get("content-type", "").startswith("application/json"):
        pytest.skip("CSV output is not implemented in this collector yet (?format=csv is answered with JSON); "
                    "it is being implemented on main")
    assert r.status == 200, r.body
    check_response("GET", template, r)
    assert r.headers["content-type"].startswith("text/csv")
    header = r.body.decode().splitlines()[0].split(",")
    assert header and all(header), r.body[:200]
    r = http_request(fleet, "GET", path, headers={"Accept": "text/csv"})
    assert r.status == 200 and r.headers["content-type"].startswith("text/csv"), (r.status, r.headers)
    r = http_request(fleet, "GET", path + sep + "format=xml")
    assert r.status == 400 and "format" in r.json()["message"], r.body
    check_response("GET", template, r)


# -- collector crashes found by the contract tests -------------------------------------------------------------


def _survives(collector: Collector, path: str) -> None:
    """The request gets a documented answer (200 or 400) and the collector keeps running."""
    try:
        r = http_request(collector, "GET", path)
    except (ConnectionError, OSError) as error:
        r = error
    deadline = time.monotonic() + 3
    while collector.running and time.monotonic() < deadline and not isinstance(r, fwtest.Response):
        time.sleep(0.05)
    assert collector.running, f"collector died on GET {path}:\n{collector.log()[-1500:]}"
    assert isinstance(r, fwtest.Response), f"no response to GET {path}: {r!r}"
    assert r.status in (200, 400), (r.status, r.body)


def test_series_with_int64_extreme_range_does_not_crash(start_collector):
    collector = start_collector()
    seed(collector)
    _survives(collector, "/v1/devices/dev-1/series?sensor=temperature&from=-1&to=9223372036854775807")


def test_rfc3339_with_long_fraction_does_not_crash(start_collector):
    collector = start_collector()
    seed(collector)
    _survives(collector, "/v1/devices/dev-1/readings?from=2024-11-21T12:00:00.1234Z")


# -- schemathesis --------------------------------------------------------------------------------------------------

FUZZ_CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
               "response_headers_conformance,response_schema_conformance")


def test_schemathesis_fuzz_pass(start_collector, tmp_path):
    """Examples, coverage, fuzzing and stateful phases with a fixed seed and budget, against the endpoints that
    exist in this build (the others are probed and left out of the run, saying so in the output)."""
    collector = start_collector()
    seed(collector)
    absent = [t for t in NOT_YET if probe_absent(collector, t)]
    if absent:
        sys.stderr.write(f"schemathesis: not fuzzing {', '.join(absent)}: not implemented in this build yet "
                         "(404 'no endpoint')\n")
    cmd = [sys.executable, "-m", "schemathesis.cli", "run", str(SPEC_PATH), "--url", collector.url,
           "--checks", FUZZ_CHECKS, "--max-examples", "15", "--seed", "20261121", "--workers", "1",
           "--request-timeout", "5", "--max-response-time", "3", "--max-time", "15",
           "--generation-database", "none", "--no-color", "--warnings", "off",
           "--phases", "examples,coverage,fuzzing,stateful"]
    for template in absent:
        cmd += ["--exclude-path", template]
    env = {**os.environ, "NO_PROXY": "*", "no_proxy": "*"}
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90)
    output = done.stdout + done.stderr
    assert collector.running, f"collector died during the fuzz pass:\n{output[-4000:]}\n{collector.log()[-3000:]}"
    assert done.returncode == 0, f"schemathesis found problems (exit {done.returncode}):\n{output[-6000:]}"
    assert "passed" in output and " 0 generated" not in output, output[-2000:]
