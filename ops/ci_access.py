"""The GitHub variables the workflows need to assume this environment's CI roles.

    python -m ops ci-vars [--env uat] [--target emulator|aws]

Reads the role ARNs from `terraform output` of state-<env> (which creates the roles when
`ci.github_repository` is set; apply it first) and prints one `NAME=value` line per role (the
image role is the repository owner's, `service.ecr_repository_owner`, for an environment that
shares another's repository):

    AWS_PLAN_ROLE_ARN_UAT=arn:aws:iam::123456789012:role/hello-world-uat-github-plan
    AWS_DEPLOY_ROLE_ARN=...
    AWS_IMAGE_ROLE_ARN=...

Exit status: 0 printed, 1 the outputs could not be read, 2 bad input (one `error:` line).
"""

from __future__ import annotations

import sys

from config import (CI_ROLES, ConfigError, EnvironmentConfig, ci_role_output, environments_dir,
                    github_variable, load_environments, select_environments)
from ops.core.runner import Runner, TerraformError
from ops.core.synth import synthesize


def role_arns(deployment: Runner) -> dict[str, str]:
    """Role kind -> ARN, from the applied state stack's outputs."""
    environment = deployment.environment
    stack = environment.stack_names["state"]
    if not deployment.stack_dir(stack).is_dir():
        synthesize(environment, deployment.outdir)
    deployment.init(stack)
    outputs = deployment.outputs(stack)
    missing = [ci_role_output(kind) for kind in environment.ci_role_names
               if ci_role_output(kind) not in outputs]
    if missing:
        raise TerraformError(f"{stack} has no output {missing[0]}: apply it first "
                             f"(python -m ops up --env {environment.name} --stack {stack})")
    return {kind: outputs[ci_role_output(kind)] for kind in environment.ci_role_names}


def github_variables(deployment: Runner, owner: Runner | None = None) -> dict[str, str]:
    """Variable name -> role ARN. An environment sharing another's ECR repository pushes with
    the image role of the repository's owner (`owner`)."""
    arns = role_arns(deployment)
    if "image" not in arns and owner is not None:
        arns["image"] = role_arns(owner)["image"]
    return {github_variable(kind, deployment.environment.name): arns[kind]
            for kind in CI_ROLES if kind in arns}


def _environments(name: str) -> tuple[EnvironmentConfig, EnvironmentConfig | None]:
    """The environment named, and the one owning the ECR repository it shares (if any)."""
    environments = load_environments(environments_dir())
    (environment,) = select_environments(environments, name)
    owner = next((env for env in environments
                  if env.name == environment.service.ecr_repository_owner), None)
    for env in (environment, owner):
        if env is not None and not env.ci.enabled:
            raise ConfigError(f"environments/{env.name}.toml: ci.github_repository is not set, "
                              "so this environment has no CI roles; set it to the repository's "
                              "owner/repo and apply the state stack")
    return environment, owner


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops ci-vars` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, commands={"vars": "ci-vars"})


if __name__ == "__main__":
    sys.exit(main())
