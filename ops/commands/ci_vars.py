"""Print the GitHub variables (role ARNs) the workflows need, from the applied state stacks."""

from ops.cli import ONE
from ops.commands import env_name, terraform_env

ENV, TARGET, OUT = ONE, True, None


def run(args):
    from ops import ci_access
    from ops.core.runner import Runner

    deployments = [None if env is None else Runner(env, terraform_env(args, env))
                   for env in ci_access._environments(env_name(args))]
    for name, value in ci_access.github_variables(*deployments).items():
        print(f"{name}={value}")
