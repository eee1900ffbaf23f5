"""JSON documents (IAM policies, container definitions, dashboards, ...) as Terraform's
`jsonencode` of a structure, so that both outputs keep them: the JSON synth writes
`"${jsonencode({...})}"`, the HCL export (`ops/export_hcl.py`) `jsonencode({...})`.

A document dumped to a JSON string in Python (`json.dumps`) works in the JSON synth, but once it
holds a reference (`${aws_s3_bucket.x.arn}`) cdktf's HCL conversion breaks the string apart at
its quotes; `jsonencode` output is also what AWS and the provider compare semantically, so
resources applied from either form plan no change.
"""

from __future__ import annotations

import json
import re
from typing import Any

# How a cdktf string token looks in Python (`${TfToken[TOKEN.12]}`): left to cdktf as is.
_TOKEN = re.compile(r"(\$\{TfToken\[[^\]]+\]\})")
# cdktf writes an argument string between quotes escaping only newlines and `${` (0.21): the
# rest of HCL's quoted-string escapes are done here, `%{` (a template directive) included.
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\r": "\\r", "\t": "\\t"}


def _escape(literal: str) -> str:
    escaped = "".join(_ESCAPES.get(char) or (f"\\u{ord(char):04x}" if ord(char) < 0x20
                                             and char != "\n" else char) for char in literal)
    return escaped.replace("%{", "%%{")


def _string(value: str) -> str:
    parts = _TOKEN.split(value)
    if len(parts) == 1:  # a literal: quoted here, so cdktf takes it as a finished HCL string
        return f'"{_escape(value)}"'
    return "".join(part if _TOKEN.fullmatch(part) else _escape(part) for part in parts)


def _prepared(value: Any) -> Any:
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_prepared(item) for item in value]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str) or _escape(key) != key or "${" in key:
                raise ValueError(f"JSON document key {key!r}: use a plain string (no quotes, "
                                 "backslashes, control characters or templates)")
        return {key: _prepared(item) for key, item in value.items()}
    raise TypeError(f"JSON document value {value!r}: use dicts, lists, strings, numbers or "
                    "booleans")


def json_document(value: dict[str, Any] | list[Any]) -> str:
    """`value` as a Terraform `jsonencode` expression (a string token for any resource argument
    that takes JSON). Strings may hold references; any literal text is kept exactly."""
    from cdktf import Fn  # here, so that decode() needs no jsii (the tools read JSON with it)

    return Fn.jsonencode(_prepared(value))


_WORD = re.compile(r"[A-Za-z_][\w.-]*")


def decode(attribute: str) -> Any:
    """The structure of a document synthesized by json_document (`${jsonencode(...)}`), each
    reference as the "${...}" string cdktf writes for it; what the tools and tests read."""
    prefix, suffix = "${jsonencode(", ")}"
    if not (attribute.startswith(prefix) and attribute.endswith(suffix)):
        raise ValueError(f"not a jsonencode document: {attribute[:60]!r}")
    text, out, at = attribute[len(prefix):-len(suffix)], [], 0
    while at < len(text):
        char = text[at]
        if char == '"':  # a quoted HCL string: JSON's escapes, plus $${ and %%{
            end = at + 1
            while text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[at:end + 1].replace("$${", "${").replace("%%{", "%{"))
            at = end + 1
        elif _WORD.match(text, at):  # true / false / null, or a reference
            word = _WORD.match(text, at).group()
            out.append(word if word in ("true", "false", "null") else json.dumps("${%s}" % word))
            at += len(word)
        else:
            out.append(":" if char == "=" else char)
            at += 1
    return json.loads("".join(out))
