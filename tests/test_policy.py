"""The policy gate: checkov over every synthesized stack (CI access included), with only
policy/checkov-skips.toml's explained exceptions."""

import dataclasses
import fnmatch
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIPS = tomllib.loads((ROOT / "policy" / "checkov-skips.toml").read_text())["skip"]


def checkov_failures(stacks_dir: Path) -> set[tuple[str, str, str]]:
    """(check id, stack, resource) of every failed check."""
    checkov = Path(sys.executable).parent / "checkov"
    result = subprocess.run(
        [str(checkov), "-d", str(stacks_dir), "--framework", "terraform_json",
         "--skip-download", "--compact", "--quiet", "-o", "json"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode in (0, 1), result.stderr
    # A stack checkov cannot parse is skipped with exit code 0: the gate would pass unseen.
    assert "Failed to parse template" not in result.stderr, result.stderr
    reports = json.loads(result.stdout) if result.stdout.strip() else []
    reports = reports if isinstance(reports, list) else [reports]
    return {(failure["check_id"], failure["file_path"].strip("/").split("/")[0],
             failure["resource"])
            for report in reports for failure in report["results"]["failed_checks"]}


def accepted(check: str, stack: str) -> bool:
    return any(skip["check"] == check and ("*" in skip["stacks"] or stack in skip["stacks"])
               for skip in SKIPS)


def test_every_skip_has_a_reason():
    for skip in SKIPS:
        assert set(skip) == {"check", "stacks", "reason"}, skip
        assert len(skip["reason"]) > 20 and "\n" not in skip["reason"], skip["check"]


@pytest.fixture(scope="module")
def gated(tmp_path_factory, environments) -> Path:
    """Every shipped stack, the examples' too, with CI access on where the config leaves it off
    (the first environment creates the OIDC provider, the others look it up), so the gate sees
    the roles."""
    import main
    from config import CiConfig, load_environments

    shipped = [*environments.values()] + [
        env for examples in sorted((ROOT / "examples").iterdir())
        for env in load_environments(examples)]
    variants = [env if env.ci.enabled else dataclasses.replace(env, ci=CiConfig(
        github_repository="acme/hello-world", oidc_provider="lookup" if index else "create"))
        for index, env in enumerate(shipped)]
    outdir = tmp_path_factory.mktemp("policy")
    main.synth(variants, str(outdir))
    for stack in (outdir / "stacks").iterdir():
        without_unparsed(stack / "cdk.tf.json")
    return outdir / "stacks"


def without_unparsed(path: Path) -> None:
    """Drop what checkov 3.3's terraform_json parser cannot read and refuses the whole stack
    for ("this method receives only dicts"): string attributes of the terraform block
    (required_version) and the import and removed blocks. None of them is a resource."""
    config = json.loads(path.read_text())
    config["terraform"] = {key: value for key, value in config["terraform"].items()
                           if isinstance(value, dict)}
    for block in ("import", "removed"):
        config.pop(block, None)
    path.write_text(json.dumps(config))


def test_checkov_finds_nothing_unexplained(gated):
    failures = checkov_failures(gated)
    unexplained = sorted(f for f in failures if not accepted(f[0], f[1]))
    assert unexplained == [], "new checkov failures (fix them, or explain them in " \
                              "policy/checkov-skips.toml):\n" + "\n".join(map(str, unexplained))
    used = {(check, stack) for check, stack, _ in failures}
    for skip in SKIPS:
        stacks = skip["stacks"]
        assert any(check == skip["check"] and ("*" in stacks or stack in stacks)
                   for check, stack in used), f"stale skip: {skip['check']} {stacks}"


# --- IAM risk: cloudsplaining ------------------------------------------------------------------
# Every identity policy the stacks write (the CI roles' inline and managed policies, the app's
# and network's role policies) through cloudsplaining's checks; only policy/cloudsplaining-
# skips.toml's explained findings pass. Conditioned statements count as constrained (its
# default), AWS managed policies attached by ARN are AWS's to keep.
IAM_SKIPS = tomllib.loads((ROOT / "policy" / "cloudsplaining-skips.toml").read_text())["skip"]
IAM_CHECKS = ("infrastructure_modification", "allows_privilege_escalation",
              "permissions_management_without_constraints", "allows_data_exfiltration_actions",
              "credentials_exposure", "service_wildcard", "contains_statement_using_not_action")


def iam_findings(stacks_dir: Path) -> set[tuple[str, str, str, str]]:
    """(check, stack, Terraform resource, action or statement Sid) of every finding."""
    from cloudsplaining.scan.policy_document import PolicyDocument

    from constructs_lib.json_document import decode

    findings = set()
    for path in sorted(stacks_dir.glob("*/cdk.tf.json")):
        stack = path.parent.name
        resources = json.loads(path.read_text()).get("resource", {})
        for kind in ("aws_iam_role_policy", "aws_iam_policy"):
            for name, resource in resources.get(kind, {}).items():
                document = PolicyDocument(decode(resource["policy"]))
                for check in IAM_CHECKS:
                    for item in getattr(document, check):
                        detail = (item.get("Sid", "?") if check.startswith("contains")
                                  else ",".join(item["actions"]) if isinstance(item, dict)
                                  else item)
                        findings.add((check, stack, name, detail))
    return findings


def iam_accepted(finding: tuple[str, str, str, str], skip: dict) -> bool:
    check, stack, resource, detail = finding
    return (skip["finding"] in ("*", check) and ("*" in skip["stacks"] or stack in skip["stacks"])
            and fnmatch.fnmatchcase(resource, skip["resource"])
            and any(fnmatch.fnmatchcase(detail, pattern) for pattern in skip["details"]))


def test_every_iam_skip_has_a_reason():
    for skip in IAM_SKIPS:
        assert set(skip) == {"finding", "stacks", "resource", "details", "reason"}, skip
        assert skip["finding"] in IAM_CHECKS + ("*",), skip["finding"]
        assert len(skip["reason"]) > 20 and "\n" not in skip["reason"], skip["resource"]


def test_cloudsplaining_finds_nothing_unexplained(gated):
    findings = iam_findings(gated)
    unexplained = sorted(f for f in findings if not any(iam_accepted(f, s) for s in IAM_SKIPS))
    assert unexplained == [], ("new IAM risks (fix them, or explain them in policy/"
                               "cloudsplaining-skips.toml):\n" + "\n".join(map(str, unexplained)))
    for skip in IAM_SKIPS:
        assert any(iam_accepted(f, skip) for f in findings), f"stale skip: {skip}"
