#!/usr/bin/env python
"""Synthesizes every environment in environments/ (or those named in $ENVIRONMENTS, comma
separated) into cdktf.out/stacks/<stack>: network-<env> and app-<env>.

A bad environment file stops here with one line naming the file, the field and what is allowed,
before the AWS provider bindings load.
"""

import os
import sys

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

from config import (ConfigError, environments_dir, load_environments,  # noqa: E402
                                   select_environments)


def synth(environments: list, outdir: str | None = None) -> dict:
    """Build every environment's stacks in one app and write them; returns the stacks by name."""
    from lazy_provider_import import activate

    # Only the provider modules used (bench/README.md "Synth speed"); CDKTF_FAST_IMPORT=0: off.
    activate()
    from cdktf import App

    from stacks import build

    app = App(outdir=outdir) if outdir else App()
    stacks = build(app, environments)
    app.synth()
    return stacks


def main() -> int:
    try:
        environments = select_environments(load_environments(environments_dir()),
                                           os.environ.get("ENVIRONMENTS"))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from lazy_provider_import import FastImportError

    try:
        synth(environments)
    except FastImportError as error:  # raised before anything is built or written
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
