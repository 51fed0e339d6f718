"""A topic's extra fields, in the shape of Open311 GeoReport v2 service attributes, framework-free.

A definition is a list of ``{"code", "description", "datatype", "required", "values"}``;
``values`` (a list of ``{"key", "name"}``) only for the two list datatypes. The same list is
what GET services/{code} shows and what a POST's ``attribute[code]`` answers are checked against.
"""

from __future__ import annotations

import re
from datetime import datetime

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LISTS = ("singlevaluelist", "multivaluelist")
CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MAX_STRING, MAX_TEXT = 200, 2000


class AttributeProblem(ValueError):
    """An answer does not fit the definition: ``code`` names the attribute, ``reason`` what is wrong:
    unknown, required, several, too_long, number, datetime, value."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"attribute[{code}]: {reason}")
        self.code = code
        self.reason = reason


def definition_errors(fields: object) -> list[str]:
    """What is wrong with a definition (empty when it is good), in plain English for the admin."""
    if not isinstance(fields, list):
        return ["the extra fields must be a list"]
    errors: list[str] = []
    seen: set[str] = set()
    for i, field in enumerate(fields, 1):
        if not isinstance(field, dict):
            errors.append(f"field {i} is not an object")
            continue
        code = field.get("code")
        if not isinstance(code, str) or not CODE.match(code):
            errors.append(f"field {i}: the code must be 1–32 letters, digits, _ or -")
        elif code in seen:
            errors.append(f"field {i}: the code {code} is used twice")
        else:
            seen.add(code)
        if field.get("datatype") not in DATATYPES:
            errors.append(f"field {i}: the datatype must be one of {', '.join(DATATYPES)}")
        if not isinstance(field.get("description", ""), str) or not field.get("description"):
            errors.append(f"field {i}: a description is needed (the question asked)")
        if not isinstance(field.get("required", False), bool):
            errors.append(f"field {i}: required must be true or false")
        values = field.get("values")
        if field.get("datatype") in LISTS:
            if not isinstance(values, list) or not values:
                errors.append(f"field {i}: a list datatype needs its values")
            elif not all(isinstance(v, dict) and str(v.get("key", "")) and v.get("name") for v in values):
                errors.append(f"field {i}: each value needs a key and a name")
        elif values:
            errors.append(f"field {i}: only a list datatype has values")
    return errors


def clean_answers(fields: list[dict], given: dict[str, list[str]]) -> dict[str, str | list[str]]:
    """The answers checked against the definition: one string each, a list for a multivaluelist.

    ``given`` maps each code to the values sent for it (a form may repeat a field). Raises
    :class:`AttributeProblem` for a code the definition does not have, a missing required one,
    or a value that does not fit its datatype.
    """
    by_code = {f["code"]: f for f in fields}
    for code in given:
        if code not in by_code:
            raise AttributeProblem(code, "unknown")
    answers: dict[str, str | list[str]] = {}
    for code, field in by_code.items():
        values = [v.strip() for v in given.get(code, []) if v.strip()]
        if not values:
            if field.get("required"):
                raise AttributeProblem(code, "required")
            continue
        kind = field["datatype"]
        if kind == "multivaluelist":
            keys = {str(v["key"]) for v in field["values"]}
            if any(v not in keys for v in values):
                raise AttributeProblem(code, "value")
            answers[code] = list(dict.fromkeys(values))
            continue
        if len(values) > 1:
            raise AttributeProblem(code, "several")
        value = values[0]
        if kind == "singlevaluelist" and value not in {str(v["key"]) for v in field["values"]}:
            raise AttributeProblem(code, "value")
        if kind == "number":
            try:
                float(value)
            except ValueError:
                raise AttributeProblem(code, "number") from None
        if kind == "datetime":
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise AttributeProblem(code, "datetime") from None
        if len(value) > (MAX_TEXT if kind == "text" else MAX_STRING) or (kind != "text" and "\n" in value):
            raise AttributeProblem(code, "too_long")
        answers[code] = value
    return answers


def answer_names(fields: list[dict], answers: dict) -> list[tuple[str, str]]:
    """The answers as (question, answer) in words, for a person reading the ticket."""
    lines = []
    for field in fields:
        value = answers.get(field["code"])
        if value in (None, "", []):
            continue
        names = {str(v["key"]): v["name"] for v in field.get("values") or []}
        values = value if isinstance(value, list) else [value]
        lines.append((field["description"], "、".join(names.get(v, v) for v in values)))
    return lines
