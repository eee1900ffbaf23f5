"""One long-lived node process running @cloud-copilot/iam-simulate (evaluator.mjs), spoken to in
JSON lines. Policies are sent once, keyed by their digest, then named by it: the AWS managed
ReadOnlyAccess alone is ~100 kB.

evaluate() is the verdict on identity policies and a boundary alone (what the CI policy tests ask),
from one process per Python process, started on first use."""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ops.emulator import ROOT, EmulatorError

SCRIPT = Path(__file__).with_name("evaluator.mjs")
# GitHub's token keys that the Service Authorization Reference (and so iam-data, which
# iam-simulate validates context keys against) does not list for AssumeRoleWithWebIdentity:
# evaluated under a listed key of the same type.
OIDC_KEY_STANDINS = {"token.actions.githubusercontent.com:sub": "accounts.google.com:sub",
                     "token.actions.githubusercontent.com:aud": "accounts.google.com:aud"}
PACKAGE = ROOT / "node_modules" / "@cloud-copilot" / "iam-simulate"


class Evaluator:
    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None or not PACKAGE.exists():
            raise EmulatorError("IAM enforcement needs node and the npm dev dependencies "
                                "(@cloud-copilot/iam-simulate): run `npm ci`")
        self._process = subprocess.Popen([node, str(SCRIPT)], cwd=ROOT, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True, bufsize=1)
        self._lock = threading.Lock()
        self._sent: set[str] = set()
        self._next = 0

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.stdin.close()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()

    def _reference(self, policy: Any, define: dict[str, Any]) -> str:
        text = json.dumps(policy, sort_keys=True)
        digest = hashlib.sha256(text.encode()).hexdigest()[:32]
        if digest not in self._sent:
            define[digest] = policy
        return digest

    def evaluate(self, principal: str, action: str, resource: str, account: str,
                 context: dict[str, Any], identity: dict[str, Any],
                 boundary: dict[str, Any] | None = None, session: Any = None,
                 resource_policy: Any = None) -> dict[str, Any]:
        """iam-simulate's verdict: {"result": "Allowed"|"ImplicitlyDenied"|"ExplicitlyDenied",
        "denied_by": [...]} or {"error": ...}. identity/boundary: policy name -> document."""
        with self._lock:
            define: dict[str, Any] = {}
            simulation = {
                "request": {"principal": principal, "action": action,
                            "resource": {"resource": resource, "accountId": account},
                            "contextVariables": context},
                "identityPolicies": [{"name": name, "policy": self._reference(doc, define)}
                                     for name, doc in identity.items()],
                "serviceControlPolicies": [], "resourceControlPolicies": [],
            }
            if boundary:
                simulation["permissionBoundaryPolicies"] = [
                    {"name": name, "policy": self._reference(doc, define)}
                    for name, doc in boundary.items()]
            if session is not None:
                simulation["sessionPolicy"] = self._reference(session, define)
            if resource_policy is not None:
                simulation["resourcePolicy"] = self._reference(resource_policy, define)
            self._next += 1
            line = json.dumps({"id": self._next, "define": define, "simulation": simulation})
            try:
                self._process.stdin.write(line + "\n")
                self._process.stdin.flush()
                answer = self._process.stdout.readline()
            except (BrokenPipeError, OSError):
                answer = ""
            if not answer:
                raise EmulatorError(f"the IAM evaluator ({SCRIPT.name}) exited with status "
                                    f"{self._process.poll()}")
            self._sent.update(define)
            return json.loads(answer)


def web_identity_context(issuer: str, claims: Mapping[str, Any]) -> dict[str, str]:
    """The context keys a web identity token sets (<issuer>:<claim>), under their stand-ins."""
    return {OIDC_KEY_STANDINS.get(f"{issuer}:{key}", f"{issuer}:{key}"): str(value)
            for key, value in claims.items()
            if isinstance(value, (str, int)) and key not in ("iss", "exp", "iat", "nbf")}


def with_standin_keys(policy: Any) -> Any:
    """A trust policy with GitHub's condition keys renamed to their stand-ins."""
    policy = json.loads(json.dumps(policy))
    statements = policy.get("Statement", [])
    standins = OIDC_KEY_STANDINS
    for statement in statements if isinstance(statements, list) else [statements]:
        for operator, conditions in (statement.get("Condition") or {}).items():
            if set(map(str.lower, standins.values())) & set(map(str.lower, conditions)):
                raise EmulatorError(f"a trust policy already uses one of "
                                    f"{sorted(standins.values())}, the stand-ins for GitHub's keys")
            statement["Condition"][operator] = {
                next((new for old, new in standins.items() if old == key.lower()), key): value
                for key, value in conditions.items()}
    return policy


def denial_reason(verdict: Mapping[str, Any], action: str) -> str:
    """Why AWS refuses, as its AccessDenied message words it ("" when allowed)."""
    if verdict.get("result") == "Allowed":
        return ""
    if "error" in verdict:
        return f"the emulator could not evaluate it ({verdict['error'].splitlines()[0]})"
    if verdict["result"] == "ExplicitlyDenied":
        return "with an explicit deny in an identity-based policy"
    if "pb" in verdict.get("denied_by", []):
        return f"because no permissions boundary allows the {action} action"
    return f"because no identity-based policy allows the {action} action"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str  # as denial_reason() words it; "" when allowed
    error: str = ""  # why iam-simulate did not judge, e.g. "no.resource.types" (the resource
    # is of no type the action is authorized on) or "must.use.wildcard"


_shared: Evaluator | None = None
_shared_lock = threading.Lock()


def evaluate(identity: Mapping[str, Any], action: str, resource: str,
             context: Mapping[str, Any] | None = None,
             boundary: Mapping[str, Any] | None = None, *, principal: str,
             resource_policy: Mapping[str, Any] | None = None) -> Verdict:
    """iam-simulate's verdict on `principal` calling `action` on `resource` with these identity
    policies and permissions boundary (policy name -> document), and the resource's policy (a
    role's trust policy for sts:AssumeRole*), in the principal's account."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Evaluator()
            atexit.register(_shared.close)
    answer = _shared.evaluate(principal, action, resource, principal.split(":")[4],
                              dict(context or {}), dict(identity), dict(boundary or {}) or None,
                              resource_policy=resource_policy)
    return Verdict(answer.get("result") == "Allowed", denial_reason(answer, action),
                   answer.get("error", ""))
