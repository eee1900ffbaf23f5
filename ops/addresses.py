"""Print a stack's map from construct path to Terraform address, for import and moved blocks.

    python -m ops addresses <stack> [--outdir cdktf.out] [--json]

Read from the synthesized `cdktf.out/stacks/<stack>/cdk.tf.json`: cdktf records each resource's
and data source's construct path in its "//" metadata. When the stack has not been synthesized
yet, its environment is synthesized first (the stack name ends in the environment's name).

    network-uat/network/vpc    aws_vpc.network_vpc
    app-uat/network/vpc        data.aws_vpc.network_vpc
"""

from __future__ import annotations

import sys
from pathlib import Path

from config import ConfigError
from ops.core import OUTDIR, environments, synthesized
from ops.core.synth import synthesize


def addresses(stack_json: dict) -> dict[str, str]:
    """Construct path -> Terraform address, for every resource and data source of a stack's
    synthesized JSON, sorted by path."""
    found = {}
    for section, prefix in (("resource", ""), ("data", "data.")):
        for resource_type, name, body in synthesized.blocks(stack_json, section):
            path = body.get("//", {}).get("metadata", {}).get("path")
            found[path or f"(no construct path) {prefix}{resource_type}.{name}"] = \
                f"{prefix}{resource_type}.{name}"
    return dict(sorted(found.items()))


def stack_addresses(stack: str, outdir: Path = OUTDIR) -> dict[str, str]:
    """addresses() of `stack`, synthesizing its environment into outdir when needed."""
    if not synthesized.exists(stack, outdir):
        every = environments.load()
        owners = [env for env in every if stack in env.stack_names.values()]
        if not owners:
            allowed = sorted(s for env in every for s in env.stack_names.values())
            raise ConfigError(f"{stack}: no such stack; stacks: {', '.join(allowed)}")
        synthesize(owners[0], Path(outdir))
    return addresses(synthesized.read(stack, outdir))


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops addresses` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, command="addresses", renames={"--outdir": "--stacks"})


if __name__ == "__main__":
    sys.exit(main())
