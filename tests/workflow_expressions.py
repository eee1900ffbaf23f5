"""GitHub Actions expressions (`${{ ... }}`, `if:`), evaluated as GitHub documents them, for the
workflow replay in tests/workflow_runner.py.

Implemented: literals (null, true, false, numbers, 'strings' with '' escapes), contexts with
`.name` and `['name']` access (case-insensitive, as GitHub's), `!`, `<`, `<=`, `>`, `>=`, `==`,
`!=` with GitHub's loose comparison (strings compared case-insensitively; otherwise both sides
turned into numbers), `&&` and `||` (returning an operand, not a boolean), parentheses, and the
functions contains, startsWith, endsWith, format, join, toJSON, fromJSON, hashFiles and the
status functions success(), failure(), always(), cancelled(). Not implemented, and refused with
ExpressionError rather than guessed: the object filter `.*`, any other function, unknown
contexts.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Callable, Mapping


class ExpressionError(Exception):
    """An expression this evaluator does not implement, or that GitHub would reject."""


TOKEN = re.compile(r"""\s*(?:
    (?P<number>-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?))
  | (?P<string>'(?:[^']|'')*')
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!()\[\].,*])
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
)""", re.VERBOSE)
STATUS_FUNCTIONS = ("success", "failure", "always", "cancelled")


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        found = TOKEN.match(text, position)
        if not found:
            raise ExpressionError(f"cannot read {text[position:]!r} in {text!r}")
        kind = found.lastgroup
        tokens.append((kind, found.group(kind)))
        position = found.end()
    return tokens


class Parser:
    """Recursive descent over GitHub's precedence: || < && < ==,!= < <,<=,>,>= < ! < access."""

    def __init__(self, text: str):
        self.text, self.tokens, self.at = text, tokenize(text), 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ExpressionError(f"expected {value or 'more'} in {self.text!r}")
        self.at += 1
        return token

    def parse(self):
        tree = self.binary(0)
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()[1]!r} in {self.text!r}")
        return tree

    LEVELS = (("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="))

    def binary(self, level: int):
        if level == len(self.LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while (token := self.peek()) and token[0] == "op" and token[1] in self.LEVELS[level]:
            self.take()
            left = ("binary", token[1], left, self.binary(level + 1))
        return left

    def unary(self):
        if self.peek() == ("op", "!"):
            self.take()
            return ("not", self.unary())
        return self.postfix(self.primary())

    def primary(self):
        kind, value = self.take()
        if kind == "number":
            return ("literal", float(int(value, 16)) if value.lower().startswith(("0x", "-0x"))
                    else float(value))
        if kind == "string":
            return ("literal", value[1:-1].replace("''", "'"))
        if kind == "op" and value == "(":
            inner = self.binary(0)
            self.take(")")
            return inner
        if kind == "name":
            if value in ("true", "false"):
                return ("literal", value == "true")
            if value == "null":
                return ("literal", None)
            if self.peek() == ("op", "("):
                self.take()
                arguments = []
                while self.peek() != ("op", ")"):
                    arguments.append(self.binary(0))
                    if self.peek() != ("op", ")"):
                        self.take(",")
                self.take(")")
                return ("call", value, arguments)
            return ("context", value)
        raise ExpressionError(f"unexpected {value!r} in {self.text!r}")

    def postfix(self, tree):
        while (token := self.peek()) and token[1] in (".", "["):
            self.take()
            if token[1] == ".":
                kind, name = self.take()
                if name == "*":
                    raise ExpressionError(f"the object filter .* is not implemented "
                                          f"(in {self.text!r})")
                if kind != "name":
                    raise ExpressionError(f"expected a property name in {self.text!r}")
                tree = ("index", tree, ("literal", name))
            else:
                if self.peek() == ("op", "*"):
                    raise ExpressionError(f"the object filter [*] is not implemented "
                                          f"(in {self.text!r})")
                index = self.binary(0)
                self.take("]")
                tree = ("index", tree, index)
        return tree


def truthy(value: Any) -> bool:
    """GitHub's falsy values: null, false, 0, -0, '', NaN."""
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, "")


def to_number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return math.nan
    return math.nan  # arrays and objects


def to_string(value: Any) -> str:
    """How a value is written into a string (`${{ }}` in run:, env:, ...)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2)
    return str(value)


def compare(left: Any, right: Any) -> float | None:
    """<0, 0, >0, or None when the two cannot be ordered (NaN, objects)."""
    if isinstance(left, (dict, list)) or isinstance(right, (dict, list)):
        return 0 if left is right else None
    if isinstance(left, str) and isinstance(right, str):
        a, b = left.casefold(), right.casefold()
        return (a > b) - (a < b)
    a, b = to_number(left), to_number(right)
    if math.isnan(a) or math.isnan(b):
        return None
    return (a > b) - (a < b)


def loose_equal(left: Any, right: Any) -> bool:
    return compare(left, right) == 0


def lookup(container: Any, key: Any) -> Any:
    """`container[key]`: case-insensitive for objects, null where absent (as GitHub)."""
    if isinstance(container, dict):
        if not isinstance(key, str):
            key = to_string(key)
        if key in container:
            return container[key]
        folded = key.casefold()
        return next((value for name, value in container.items()
                     if isinstance(name, str) and name.casefold() == folded), None)
    if isinstance(container, list):
        number = to_number(key)
        if math.isnan(number) or not number.is_integer() or not 0 <= number < len(container):
            return None
        return container[int(number)]
    return None


def format_string(template: str, *arguments: Any) -> str:
    def replace(found: re.Match) -> str:
        if found.group(0) == "{{":
            return "{"
        if found.group(0) == "}}":
            return "}"
        index = int(found.group(1))
        if index >= len(arguments):
            raise ExpressionError(f"format({template!r}): no argument {{{index}}}")
        return to_string(arguments[index])
    return re.sub(r"\{\{|\}\}|\{(\d+)\}", replace, template)


class Evaluator:
    """Evaluates against `contexts` (name -> value); `status` answers the status functions
    (success/failure/always/cancelled -> bool); `hash_files(patterns)` answers hashFiles."""

    def __init__(self, contexts: Mapping[str, Any],
                 status: Callable[[str], bool] | None = None,
                 hash_files: Callable[[list[str]], str] | None = None):
        self.contexts, self.status, self.hash_files = contexts, status, hash_files

    def evaluate(self, text: str) -> Any:
        return self.eval(Parser(text).parse())

    def eval(self, tree) -> Any:
        kind = tree[0]
        if kind == "literal":
            return tree[1]
        if kind == "context":
            name = tree[1]
            if name not in self.contexts:
                raise ExpressionError(f"unknown context {name!r} (available here: "
                                      f"{', '.join(sorted(self.contexts))})")
            return self.contexts[name]
        if kind == "index":
            return lookup(self.eval(tree[1]), self.eval(tree[2]))
        if kind == "not":
            return not truthy(self.eval(tree[1]))
        if kind == "binary":
            operator = tree[1]
            left = self.eval(tree[2])
            if operator == "&&":
                return self.eval(tree[3]) if truthy(left) else left
            if operator == "||":
                return left if truthy(left) else self.eval(tree[3])
            right = self.eval(tree[3])
            if operator == "==":
                return loose_equal(left, right)
            if operator == "!=":
                return not loose_equal(left, right)
            order = compare(left, right)
            if order is None:
                return False
            return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[operator]
        if kind == "call":
            return self.call(tree[1], [self.eval(argument) for argument in tree[2]])
        raise ExpressionError(f"cannot evaluate {tree!r}")

    def call(self, name: str, arguments: list) -> Any:
        folded = name.casefold()
        if folded in STATUS_FUNCTIONS:
            if arguments:
                raise ExpressionError(f"{name}() takes no arguments")
            if self.status is None:
                raise ExpressionError(f"{name}() is only allowed in if:")
            return self.status(folded)
        if folded == "contains":
            haystack, needle = self.arity(name, arguments, 2)
            if isinstance(haystack, list):
                return any(loose_equal(item, needle) for item in haystack)
            return to_string(needle).casefold() in to_string(haystack).casefold()
        if folded in ("startswith", "endswith"):
            text, part = (to_string(value).casefold() for value in self.arity(name, arguments, 2))
            return text.startswith(part) if folded == "startswith" else text.endswith(part)
        if folded == "format":
            if not arguments:
                raise ExpressionError("format() needs a format string")
            return format_string(to_string(arguments[0]), *arguments[1:])
        if folded == "join":
            if len(arguments) not in (1, 2):
                raise ExpressionError("join() takes 1 or 2 arguments")
            separator = to_string(arguments[1]) if len(arguments) == 2 else ","
            items = arguments[0] if isinstance(arguments[0], list) else [arguments[0]]
            return separator.join(to_string(item) for item in items)
        if folded == "tojson":
            (value,) = self.arity(name, arguments, 1)
            return json.dumps(value, indent=2)
        if folded == "fromjson":
            (value,) = self.arity(name, arguments, 1)
            try:
                parsed = json.loads(to_string(value))
            except ValueError as error:
                raise ExpressionError(f"fromJSON: not JSON: {to_string(value)!r} ({error})")
            return float(parsed) if isinstance(parsed, int) and not isinstance(parsed, bool) \
                else parsed
        if folded == "hashfiles":
            if not arguments or self.hash_files is None:
                raise ExpressionError("hashFiles() needs a pattern and a workspace")
            return self.hash_files([to_string(argument) for argument in arguments])
        raise ExpressionError(f"function {name}() is not implemented by the replay")

    @staticmethod
    def arity(name: str, arguments: list, count: int) -> list:
        if len(arguments) != count:
            raise ExpressionError(f"{name}() takes {count} argument(s), got {len(arguments)}")
        return arguments


EMBEDDED = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def interpolate(value: Any, evaluator: Evaluator) -> Any:
    """A workflow value with its `${{ }}` replaced. A string that is exactly one expression keeps
    the expression's type (a matrix from fromJSON); any other is a string. Lists and mappings
    are interpolated item by item."""
    if isinstance(value, dict):
        return {key: interpolate(item, evaluator) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, evaluator) for item in value]
    if not isinstance(value, str):
        return value
    whole = EMBEDDED.fullmatch(value.strip())
    if whole and value.strip().count("${{") == 1:
        return evaluator.evaluate(whole.group(1))
    return EMBEDDED.sub(lambda found: to_string(evaluator.evaluate(found.group(1))), value)


def condition(text: Any, evaluator: Evaluator) -> bool:
    """An `if:`: with or without `${{ }}`; success() && (...) unless it calls a status
    function itself."""
    if text is None:
        text = "success()"
    if isinstance(text, bool):
        return text
    text = str(text).strip()
    whole = EMBEDDED.fullmatch(text)
    if whole:
        text = whole.group(1).strip()
    elif "${{" in text:
        # GitHub then evaluates the interpolated string, which is always truthy when non-empty.
        return truthy(interpolate(text, evaluator))
    tree = Parser(text).parse()
    if not uses_status(tree):
        tree = ("binary", "&&", ("call", "success", []), tree)
    return truthy(evaluator.eval(tree))


def uses_status(tree) -> bool:
    if tree[0] == "call" and tree[1].casefold() in STATUS_FUNCTIONS:
        return True
    return any(uses_status(part) for part in tree[1:] if isinstance(part, tuple)) or any(
        uses_status(item) for part in tree[1:] if isinstance(part, list) for item in part)
