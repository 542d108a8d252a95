"""`GET /api/v1/openapi.json` against the app itself: every /api/v1 route is documented with its method and every
documented operation is a route; request schemas are those of the pydantic models that validate the bodies; and
the answers the API gives (`conforms`, used by tests/test_api_invitations.py and tests/test_api_directory.py too)
validate against the documented response schemas."""

import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from bot.http import api
from bot.http.api import directory, invitations, openapi

_DOCUMENT = openapi.document(api.MODULES)


def operation(method: str, path: str) -> dict:
    """The documented operation of ``method`` on the concrete ``path`` (/api/v1/staff/3 → /api/v1/staff/{id})."""
    for template, item in _DOCUMENT["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path.split("?")[0]) and method.lower() in item:
            return item[method.lower()]
    raise AssertionError(f"{method} {path} is not documented")


def conforms(method: str, path: str, status: int, body) -> None:
    """Fail unless ``body`` (JSON) is what the document says ``method path`` answers with ``status``."""
    documented = operation(method, path)["responses"].get(str(status))
    assert documented is not None, f"{method} {path}: status {status} is not documented"
    if "$ref" in documented:
        documented = _DOCUMENT["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
    schema = documented["content"]["application/json"]["schema"]
    # The components travel with the schema, so its "#/components/schemas/..." references resolve.
    Draft202012Validator({**schema, "components": _DOCUMENT["components"]}).validate(body)


def api_routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith(api.PREFIX) and route.method not in ("HEAD", "*"):
            found.add((route.method.lower(), path))
    return found


async def test_the_document_needs_no_key_and_is_openapi_3(client):
    answer = await client.get("/api/v1/openapi.json")
    assert answer.status == 200 and answer.content_type == "application/json"
    body = await answer.json()
    assert body["openapi"].startswith("3.") and body["info"]["title"] == "sipas-bot API"
    assert body == _DOCUMENT
    validate(body)  # a valid OpenAPI 3.1 document (openapi-spec-validator)


async def test_every_route_is_documented_and_every_operation_is_a_route(client):
    routes = api_routes(client.server.app)
    documented = {(method, path) for path, item in _DOCUMENT["paths"].items() for method in item
                  if method in ("get", "post", "patch", "put", "delete")}
    assert routes == documented
    assert ("post", "/api/v1/invitations") in routes and ("patch", "/api/v1/staff/{id}") in routes
    assert len(routes) >= 12


def test_every_module_of_the_api_exports_routes_and_paths():
    for module in api.MODULES:
        assert module.ROUTES and module.PATHS, module.__name__
        assert {route.path for route in module.ROUTES} == set(module.PATHS), module.__name__


@pytest.mark.parametrize(("method", "path", "model"), [
    ("post", "/api/v1/invitations", invitations.IssueBody),
    ("post", "/api/v1/centres", directory.CentreNew), ("patch", "/api/v1/centres/{code}", directory.CentreChange),
    ("post", "/api/v1/services", directory.ServiceNew),
    ("patch", "/api/v1/services/{code}", directory.ServiceChange),
    ("post", "/api/v1/staff", directory.StaffNew), ("patch", "/api/v1/staff/{id}", directory.StaffChange),
])
def test_request_schemas_are_the_validating_models(method, path, model):
    ref = _DOCUMENT["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    name = ref.rsplit("/", 1)[1]
    assert name == model.__name__
    assert _DOCUMENT["components"]["schemas"][name] == model.model_json_schema(
        ref_template="#/components/schemas/{model}")
    assert _DOCUMENT["components"]["schemas"][name]["additionalProperties"] is False  # unknown fields refused


async def test_an_error_and_the_document_itself_conform(client):
    answer = await client.post("/api/v1/invitations", json={"centre": "HL"})
    assert answer.status == 401
    conforms("POST", "/api/v1/invitations", 401, await answer.json())
    with pytest.raises(AssertionError, match="not documented"):
        conforms("POST", "/api/v1/invitations", 418, {})
    from jsonschema import ValidationError

    with pytest.raises(ValidationError):  # the check can fail: an answer with a field the document lacks
        conforms("POST", "/api/v1/invitations", 401, {"error": {"code": "x", "message": "y", "extra": 1}})


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.mark.parametrize(("method", "path"), sorted(
    (method, path) for path, item in _DOCUMENT["paths"].items() for method in item if path != "/api/v1/openapi.json"))
async def test_every_documented_operation_wants_a_key_and_says_so_as_documented(client, method, path):
    answer = await client.request(method.upper(), concrete(path), json={})
    assert answer.status == 401
    conforms(method, concrete(path), 401, await answer.json())


async def test_a_report_answer_conforms(services, client, cli):
    from test_report import seed

    await seed(services)
    code, key, err = cli("apikey", "create", "--role", "admin")
    assert code == 0, err
    answer = await client.get("/api/v1/reports/sipas", params={"survey": "sipas-quick", "min_n": "1"},
                              headers={"Authorization": f"Bearer {key.strip()}"})
    assert answer.status == 200
    conforms("GET", "/api/v1/reports/sipas", 200, await answer.json())
