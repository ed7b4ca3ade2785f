"""Schemathesis hooks for test_openapi.py's fuzz pass (loaded through SCHEMATHESIS_HOOKS=schemathesis_hooks).

Two known collector crashes would otherwise end the fuzz pass at the first request that hits them (the process
dies, every later request fails, nothing else gets checked). Each has its own strict xfail test in
test_openapi.py with the exact reproduction; here the fuzzer's request is steered just clear of it:

- `GET /v1/devices/{d}/series` with `from`/`to` (Unix ms or RFC 3339) whose difference overflows Int64 (e.g.
  from=-1, to=9223372036854775807, or from=0367-04-13T20:24:47-14:41, to=9223372036854775807): arithmetic
  overflow trap in RESTService.series. `to` is set to `from`.
- `from`/`to` in RFC 3339 with more than 3 fraction digits (e.g. 2024-11-21T12:00:00.1234Z) on readings or
  series: `digits..<3` range trap in RFC3339.milliseconds. The fraction is cut to 3 digits.

Delete a rule when its xfail starts passing (xfail_strict makes that test fail to remind you).
"""

import re

import schemathesis

_LONG_FRACTION = re.compile(r"^(.{19}\.[0-9]{3})[0-9]+")


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    query = case.query
    if not isinstance(query, dict) or not case.operation.path.startswith("/v1/devices/{device}/"):
        return
    for name in ("from", "to"):
        value = query.get(name)
        if isinstance(value, str):
            query[name] = _LONG_FRACTION.sub(r"\1", value)
    if case.operation.path == "/v1/devices/{device}/series":
        low, high = _milliseconds(query.get("from")), _milliseconds(query.get("to"))
        if low is not None and high is not None and abs(high - low) >= 2**63 - 2**50:
            query["to"] = query["from"]


def _milliseconds(value):
    """About the Unix ms of an integer or RFC 3339 query value (RFC 3339 from its year alone: the margin above
    covers the rest); None when it is neither."""
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        pass
    year = re.match(r"^([0-9]{4})-", str(value))
    return None if year is None else (int(year.group(1)) - 1970) * 31_556_952_000
