"""Schemathesis hooks of `cargo xtask fuzz-api`.

1. Fresh idempotency keys. The fuzzer reuses the few `Idempotency-Key` values it generates across unrelated requests; the
server then answers 422 `idempotency_mismatch`, as the contract requires, which Schemathesis
counts as a schema-valid request rejected. So a valid key is replaced by a fresh one for every
request (one key, one request: what the header means). A key the schema forbids is sent as
generated, so its rejection is still tested.

2. Rules beyond a schema. Some operations check what no JSON Schema can say: a rule on stored
state, on the clock, across fields or on file contents. Their 422 for a schema-valid request is
the contract's answer, listed in `RULES_BEYOND_THE_SCHEMA` with the rule; only a 422 on those
operations is accepted, every other status is still checked.

3. A Schemathesis bug worked around: see `_tolerate_unparsable_urls`.

4. Only real violations. A "schema-violating request accepted" failure is kept only when what
was sent does violate the operation's schema (see `filter_failure`).
"""

import json
import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"^[\x20-\x7E]{1,255}$")

RULES_BEYOND_THE_SCHEMA = {
    "PUT /api/v1/workflows/{workflow_id}/rollout":
        "the versions must exist and the shares sum to 100",
    "POST /api/v1/workflows": "the graph must pass the engine's validation",
    "PATCH /api/v1/workflows/{workflow_id}": "the graph must pass the engine's validation",
    "POST /api/v1/workflows/{workflow_id}/drafts": "the graph must pass the engine's validation",
    "PATCH /api/v1/workflows/{workflow_id}/drafts/{draft_id}":
        "the graph must pass the engine's validation",
    "POST /api/v1/workflows/{workflow_id}/drafts/{draft_id}/publish":
        "the draft must be valid to be published",
    "POST /api/v1/workflows/{workflow_id}/drafts/{draft_id}/dry-run":
        "the draft must be valid to be dry-run",
    "GET /api/v1/workflows/{workflow_id}/drafts/{draft_id}/diff":
        "the draft must be valid to be compared",
    "POST /api/v1/workflows/{workflow_id}/dry-run": "the version asked for must exist",
    "POST /api/v1/webhooks/endpoints":
        "the URL's host must be public, by name and address (SSRF protection)",
    "PATCH /api/v1/webhooks/endpoints/{endpoint_id}":
        "the URL's host must be public, by name and address (SSRF protection)",
    "POST /api/v1/api-keys":
        "expires_at must be in the future; the environment is the caller's; a publishable key "
        "holds only sessions:create",
    "PATCH /api/v1/api-keys/{key_id}": "expires_at must be in the future",
    "POST /api/v1/sessions": "the workflow must exist and be active",
    "POST /api/v1/sessions/{session_id}/submit":
        "the session must hold the documents its workflow requires",
    "POST /api/v1/sessions/{session_id}/documents":
        "the file must be a JPEG, PNG, WebP or PDF by its content",
    "POST /api/v1/workflows/{workflow_id}/trigger": "the workflow must be active",
    "GET /api/v1/identities":
        "page[after] and page[before] must be cursors the list gave (a blank page[after] starts "
        "at the newest), and at most one of them is given",
    "POST /api/v1/identities": "identity_type_id must name an identity type of the environment",
    "POST /api/v1/identities/search":
        "at least one filter; first_name, last_name and date_of_birth only together; a hashed "
        "value must keep letters or digits after normalisation (an e-mail with text on both "
        "sides of one @, a phone with 7 digits, a real calendar date)",
    "PATCH /api/v1/identities/{id}":
        "identity_type_id must name an identity type; type_status must be one of its statuses",
    "POST /api/v1/identities/{id}/tags":
        "a tag has no control characters nor surrounding spaces; at most 50 per identity",
    "PUT /api/v1/identities/{id}/tags":
        "a tag has no control characters nor surrounding spaces; at most 50 per identity",
    "POST /api/v1/identities/merge/preview":
        "the identities must differ and be neither merged nor redacted; tags stay within 50",
    "POST /api/v1/identities/merge":
        "the identities must differ and be neither merged nor redacted; tags stay within 50",
    "POST /api/v1/identities/merge-multiple":
        "the identities must differ and be neither merged nor redacted; tags stay within 50",
    "POST /api/v1/identity-types": "default_status must be one of statuses, each listed once",
    "PATCH /api/v1/identity-types/{id}": "default_status must be one of statuses, each listed once",
    "POST /api/v1/cases/next": "reviewer_id must name an active reviewer or admin of the organization",
    "POST /api/v1/cases/{id}/claim":
        "reviewer_id must name an active reviewer or admin of the organization",
    "POST /api/v1/cases/{id}/release":
        "reviewer_id must name an active reviewer or admin of the organization",
    "POST /api/v1/cases/{id}/assign":
        "reviewer_id must name an active reviewer or admin of the organization",
    "POST /api/v1/cases/{id}/approve":
        "reviewer_id must name an active reviewer or admin of the organization",
    "POST /api/v1/cases/{id}/reject":
        "reviewer_id must name an active reviewer or admin of the organization",
    "POST /api/v1/cases/{id}/escalate":
        "reviewer_id and escalated_to must name active reviewers of the organization",
    "POST /api/v1/cases/{id}/notes": "author_id must name a user of the organization",
    "POST /api/v1/cases": "each metadata value is at most 16 KiB once serialised",
    "PATCH /api/v1/cases/{id}":
        "each metadata or custom field value is at most 16 KiB once serialised",
    "PATCH /api/v1/settings":
        "sensitive_data_retention_days is at most data_retention_days; an origin is exactly "
        "https://host[:port] (http only on loopback); display_name has no control characters; "
        "logo_url is an https URL with a host",
    "PUT /api/v1/cases/{id}/result/pii":
        "reviewer_id must name an active reviewer; values have no control characters",
    "POST /api/v1/cases/search": "created_before must be later than created_after",
    "POST /api/v1/cases/{id}/override-check-and-continue":
        "reviewer_id must name an active reviewer; node_id must be a failed or errored policy "
        "node on the run's path, not overridden before",
    "POST /api/v1/cases/bulk":
        "each action needs its own fields (assign, approve, reject: reviewer_id; escalate: "
        "reason; set_priority: priority) and reviewer_id must name an active reviewer",
}


def _tolerate_unparsable_urls():
    """Schemathesis 4.32.5 scans 2xx bodies for same-origin URLs to infer links, and its scan
    raises `ValueError: Invalid IPv6 URL` (ending the run as an internal error) on a string
    such as `http://[x` that a fuzzed field echoes back. Such a string is no link: the scan
    skips it instead of crashing."""
    from schemathesis.engine import observations

    original = observations._same_origin_path

    def tolerant(value, origin):
        try:
            return original(value, origin)
        except ValueError:
            return None

    observations._same_origin_path = tolerant


_tolerate_unparsable_urls()


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers
    if not headers:
        return
    for name in list(headers):
        value = headers[name]
        if name.lower() == "idempotency-key" and isinstance(value, str) and VALID_KEY.match(value):
            headers[name] = f"fuzz-{uuid.uuid4()}"


_INVALID_SYNTAX = object()


def _decoded_body(body):
    """The body as the server reads it: raw bytes or text are parsed as JSON, and a blank or
    `null` body is no body (an optional body may be left out that way); bytes that are not JSON
    are `_INVALID_SYNTAX`."""
    from schemathesis.core import NOT_SET

    if not isinstance(body, (bytes, bytearray, str)):
        return body
    text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body
    if not text.strip() or text.strip() == "null":
        return NOT_SET
    try:
        return json.loads(text)
    except ValueError:
        return _INVALID_SYNTAX


def _sent_request_is_valid(case):
    """Whether everything `case` sends conforms to its operation's schema."""
    from schemathesis.core import NOT_SET

    operation = case.operation
    bodies = list(operation.body)
    body = _decoded_body(case.body)
    if body is _INVALID_SYNTAX:
        return False
    if body is NOT_SET:
        if any(b.is_required for b in bodies):
            return False
    elif bodies:
        matching = [b for b in bodies if b.media_type == case.media_type] or bodies
        if not any(b.is_valid(body) for b in matching):
            return False
    sent = {
        "path": case.path_parameters or {},
        "query": case.query or {},
        "header": {k.lower(): v for k, v in (case.headers or {}).items()},
    }
    declared = {"path": set(), "query": set(), "header": set()}
    for parameter in operation.iter_parameters():
        location = str(parameter.location.value).lower()
        if location not in sent:
            continue
        name = parameter.name.lower() if location == "header" else parameter.name
        declared[location].add(name)
        if name in sent[location]:
            if not parameter.is_valid(sent[location][name]):
                return False
        elif parameter.is_required:
            return False
    # An undeclared query parameter is outside the schema too (extra headers are ignored).
    return not (set(sent["query"]) - declared["query"])


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Drops two kinds of failure, keeps every other:

    - ST202 (schema-valid request rejected) answered 422 by an operation whose rule is beyond
      the schema (`RULES_BEYOND_THE_SCHEMA`);
    - ST201 (schema-violating request accepted) when what was sent does conform to the
      operation's schema: the coverage phase sometimes labels a request negative for a rule
      the schema does not have (e.g. "Missing required property" for an optional one);
    - ST301 (deleted resource still available) for a workflow draft: `DELETE` discards a
      draft, which stays readable with status `discarded` (CONTRACT §2.2–2.3), and so do its
      read-only views (`GET .../drafts/{draft_id}/diff`).
    """
    code = getattr(failure, "code", None)
    if code == "ST301" and (_is_discarded_draft(response) or _is_draft_view(case)):
        return False
    if code == "ST202":
        label = f"{case.method.upper()} {case.operation.path}"
        return not (label in RULES_BEYOND_THE_SCHEMA and response.status_code == 422)
    if code == "ST201":
        return not _sent_request_is_valid(case)
    return True


def _is_draft_view(case):
    """Whether `case` reads a view of one workflow draft (its diff), not the draft itself."""
    path = case.operation.path
    return case.method.upper() == "GET" and path.startswith(
        "/api/v1/workflows/{workflow_id}/drafts/{draft_id}/"
    )


def _is_discarded_draft(response):
    """Whether `response` shows a workflow draft with status `discarded`."""
    try:
        text = response.text if isinstance(getattr(response, "text", None), str) else None
        if text is None:
            text = bytes(response.content).decode("utf-8", "replace")
        body = json.loads(text)
    except (AttributeError, TypeError, ValueError):
        return False
    return (
        isinstance(body, dict)
        and str(body.get("id", "")).startswith("wfd_")
        and body.get("status") == "discarded"
    )
