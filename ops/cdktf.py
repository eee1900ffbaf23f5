"""The cdktf CLI as docs/delivery.md runs it: `npm run cdktf -- <command> [args]`.

Runs the pinned CLI (node_modules/.bin/cdktf) with what it needs here and nothing of its noise:
no telemetry (CHECKPOINT_DISABLE=1; without the internet its checkpoint call prints
`[ERROR] ... ENOTFOUND`), Terraform's CLI config by absolute path (cdktf runs terraform in
cdktf.out/stacks/<stack>, where a relative TF_CLI_CONFIG_FILE finds nothing), and, on a machine
with the offline provider mirror, no `terraform providers lock` (it asks the registry).
"""

from __future__ import annotations

import os
import sys

from ops.core import ROOT
from ops.core.terraform import cli_environment, mirror_in_use

# The cdktf commands that run `terraform providers lock` unless told not to.
LOCKING_COMMANDS = ("deploy", "diff", "destroy")


def command(argv: list[str], base: dict[str, str] | None = None
            ) -> tuple[list[str], dict[str, str]]:
    """The cdktf command line and environment for `npm run cdktf -- <argv>`."""
    env = cli_environment(base)
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    args = [str(ROOT / "node_modules" / ".bin" / "cdktf"), *argv]
    offline = mirror_in_use(env)
    if offline and argv[:1] and argv[0] in LOCKING_COMMANDS and "--skip-provider-lock" not in argv:
        args.append("--skip-provider-lock")
    return args, env


def main() -> None:
    args, env = command(sys.argv[1:])
    os.chdir(ROOT)
    os.execve(args[0], args, env)


if __name__ == "__main__":
    main()
