"""IAM enforced in the emulator: requests signed with an assumed role's (or a non-default IAM
user's) keys are refused where AWS IAM would refuse them. Opt-in; the administrator's fake keys
(aws_environment()) are never evaluated.

What moto lacks: its access control is "very basic" (no condition keys, no permissions
boundary, resource "*" for most services, no trust policy check on AssumeRole*, no
MaxSessionDuration). Here, before moto handles a request:

- STS AssumeRole / AssumeRoleWithWebIdentity: the role exists, DurationSeconds <= the role's
  MaxSessionDuration, and its trust policy allows the caller; for web identity the token's
  claims are decoded WITHOUT checking its signature (tests mint unsigned tokens, mint_token()),
  the OIDC provider must exist in IAM with the token's audience, and the trust policy is
  evaluated with the `<issuer>:<claim>` context keys (sub and aud under stand-in keys, see
  evaluator.OIDC_KEY_STANDINS: the reference data lacks them).
- every other request: its action (moto's operation name; S3's IAM action), the resource ARNs
  built from its parameters (arns.py, the Service Authorization Reference's ARN patterns) and
  its condition keys (aws:PrincipalArn, aws:RequestedRegion, aws:SecureTransport=true,
  aws:RequestTag/*, aws:TagKeys, aws:ResourceTag/* (load balancing resources and KMS keys
  only), iam:PolicyARN, iam:PermissionsBoundary, iam:PassedToService,
  iam:AWSServiceName, s3:prefix, s3:delimiter, s3:if-none-match) are evaluated against the
  role's inline and attached managed policies, its permissions boundary and the session
  policy, by @cloud-copilot/iam-simulate (npm, AGPL-3.0: a dev dependency, run as one node
  process, evaluator.py). So are the calls AWS
  authorizes as the caller on its behalf: iam:PassRole for a role a request passes,
  iam:CreateServiceLinkedRole on first use of ECS, ELB and ECS auto scaling (the role is then
  created, as AWS does), cloudwatch:PutMetricAlarm/DescribeAlarms/DeleteAlarms on a
  target-tracking policy's TargetTracking-<resource>-AlarmHigh|Low-<uuid> alarms, and, for an ECS
  blue/green CreateDeployment, what CodeDeploy then does with the group's service role (its
  refusals are recorded; the deployment still runs).
- a refusal answers the protocol's error (JSON AccessDeniedException, query AccessDenied, EC2
  UnauthorizedOperation, S3 AccessDenied) with AWS's message ("User: <arn> is not authorized to
  perform: <action> on resource: <arn> because no identity-based policy allows the <action>
  action"), and is recorded: denials() in-process, and one JSON line per refusal in the denials
  file (EMULATOR_IAM_DENIALS, default <tmp>/ops-emulator-<port>-iam-denials.jsonl).

The administrator's AssumeRole is evaluated as the account's root with full identity
permissions (its trust policy still decides). Verdicts are cached per principal, policies,
request and context, so time keys (aws:CurrentTime, aws:EpochTime) are not set.

Not checked: resource-based policies other than KMS key policies (bucket, topic policies),
other aws:ResourceTag/*, SCPs,
kms:ViaService (grants ECR asks KMS for), role chaining's one-hour limit, request signatures and
the token's signature, and resources whose ARN the builder cannot tell (evaluated with
arns.UNRESOLVED, so only a wildcard allows them, and logged).

It relies on moto's internals (BaseResponse.call_action, ActionAuthenticatorMixin.
_authenticate_and_authorize_s3_action, the IAM and STS backends' attributes): enforce.install()
fails loudly, naming what vanished, like the patches' wrap().

Use (the workflow replay's interface)::

    with Emulator(port=0, enforce_iam=True) as emulator:     # or EMULATOR_ENFORCE_IAM=1
        token = mint_token("repo:OWNER/REPO:environment:uat")
        env = web_identity_environment(emulator.endpoint_url, role_arn, token,
                                       base=emulator.environment(base=os.environ))
        subprocess.run([...], env=env)                       # runs as the role
        read_denials(emulator.denials_file)                  # or emulator.denials()

ops commands given `--target emulator` take the administrator's keys (ops.aws.
target_environment): to run one as the role, give it `--target aws` and this env, which keeps
AWS_ENDPOINT_URL pointing at the emulator.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
ENFORCE_VARIABLE = "EMULATOR_ENFORCE_IAM"
DENIALS_VARIABLE = "EMULATOR_IAM_DENIALS"


def enforce_requested(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get(ENFORCE_VARIABLE, "").lower() in ("1", "true", "yes")


def default_denials_file(port: int, environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get(DENIALS_VARIABLE)
                or Path(tempfile.gettempdir()) / f"ops-emulator-{port}-iam-denials.jsonl")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def mint_token(subject: str, audience: str = AUDIENCE, lifetime: int = 300,
               **claims: Any) -> str:
    """An UNSIGNED JWT shaped like GitHub's OIDC token for `subject` (e.g.
    repo:OWNER/REPO:pull_request, repo:OWNER/REPO:environment:uat,
    repo:OWNER/REPO:ref:refs/heads/main); repository, ref and event_name are derived from it
    unless given. Only the emulator accepts it."""
    repository = subject.split(":")[1] if subject.count(":") >= 2 else ""
    kind = subject.split(":", 2)[2] if subject.count(":") >= 2 else ""
    now = int(time.time())
    body = {"iss": GITHUB_ISSUER, "aud": audience, "sub": subject, "iat": now, "nbf": now,
            "exp": now + lifetime, "repository": repository,
            "repository_owner": repository.split("/")[0],
            "event_name": "pull_request" if kind == "pull_request" else "push",
            "ref": kind.removeprefix("ref:") if kind.startswith("ref:") else "refs/heads/main"}
    if kind.startswith("environment:"):
        body["environment"] = kind.removeprefix("environment:")
    body.update(claims)
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(body)}."


def web_identity_environment(endpoint_url: str, role_arn: str, token: str,
                             session_name: str = "github-actions", duration: int = 3600,
                             region: str | None = None,
                             base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Assume `role_arn` with `token` (AssumeRoleWithWebIdentity, as aws-actions/
    configure-aws-credentials does) and return `base` with the role's AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. Raises botocore's ClientError (AccessDenied,
    InvalidIdentityToken, ValidationError) as AWS would."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    env = dict(base or {})
    region = region or env.get("AWS_REGION") or "ap-south-1"
    sts = boto3.client("sts", region_name=region, endpoint_url=endpoint_url,
                       config=Config(signature_version=UNSIGNED))
    credentials = sts.assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName=session_name, WebIdentityToken=token,
        DurationSeconds=duration)["Credentials"]
    env.update({"AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
                "AWS_SESSION_TOKEN": credentials["SessionToken"]})
    return env


def read_denials(path: Path | str) -> list[dict[str, Any]]:
    """The refusals recorded in a denials file: action, resource, principal, role, reason,
    message, context, time."""
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
