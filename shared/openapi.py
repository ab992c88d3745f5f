"""A service's OpenAPI 3.1 document, from what its ``http`` entrypoints declare: their
routes, path, query and header parameters, bodies, responses and roles."""

import re
from types import UnionType
from typing import get_args, get_origin

from pydantic import BaseModel

PATH_PARAMETER = re.compile(r"<(?:[^:>]+:)?([^>]+)>")  # werkzeug's <converter:name>


def document(entrypoints, title: str, description: str = "") -> dict:
    """OpenAPI 3.1 for ``entrypoints``: (method name, ``shared.http`` entrypoint) pairs."""
    schemas: dict = {}

    def json_schema(model: type[BaseModel]) -> dict:
        """The model's schema; the models it refers to in the document's components."""
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        return schema

    def ref(model) -> dict:
        """A model, a list of them (``list[Model]``) or one of several (``A | B``), in the
        document's components."""
        if get_origin(model) is list:
            return {"type": "array", "items": ref(get_args(model)[0])}
        if get_origin(model) is UnionType:
            return {"anyOf": [ref(one) for one in get_args(model)]}
        schemas[model.__name__] = json_schema(model)
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    def content(status: int, model) -> dict:
        """A response's media type and schema: JSON of a model, other media types
        (``"application/pdf"``, or a tuple of them), or a refusal's JSON error."""
        if isinstance(model, str | tuple):
            return {media: {} for media in ((model,) if isinstance(model, str) else model)}
        if model is None:
            return {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    } if status >= 400 else {}
        return {"application/json": {"schema": ref(model)}}

    error = {"description": "Error", "content": content(400, None)}
    paths: dict = {}
    for method_name, entrypoint in entrypoints:
        for method in entrypoint.method.split(","):
            operation: dict = {
                "operationId": method_name,
                "summary": entrypoint.summary or method_name.replace("_", " "),
                "responses": {"default": error},
            }
            for status, (text, model) in entrypoint.responses.items():
                media = content(status, model)
                operation["responses"][str(status)] = {"description": text} | (
                    {"content": media} if media else {})
            if not any(200 <= status < 300 for status in entrypoint.responses):
                operation["responses"]["200"] = {"description": "OK"}
            params = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in PATH_PARAMETER.findall(entrypoint.url)
            ]
            params += [header.parameter() for header in entrypoint.headers]
            if entrypoint.query_model is not None:
                query_schema = json_schema(entrypoint.query_model)
                required = set(query_schema.get("required", ()))
                params += [
                    {"name": name, "in": "query", "required": name in required, "schema": prop}
                    for name, prop in query_schema.get("properties", {}).items()
                ]
            if params:
                operation["parameters"] = params
            if entrypoint.body_model is not None:
                operation["requestBody"] = {"required": True, "content": {
                    "application/json": {"schema": ref(entrypoint.body_model)}}}
            if entrypoint.roles is not None:
                operation["security"] = [{"organiser": list(entrypoint.roles)}]
            path = PATH_PARAMETER.sub(r"{\1}", entrypoint.url)
            paths.setdefault(path, {})[method.lower()] = operation
    schemas["Error"] = {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                       "field": {"type": ["string", "null"]}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1", "description": description},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"organiser": {"type": "http", "scheme": "bearer"}},
        },
    }
