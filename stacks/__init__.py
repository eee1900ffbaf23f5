"""The stacks: per environment, the constructs wired together from the config mapped onto their
props (stacks/props.py); no resource logic of their own.

- state-<env> (state.py): the bootstrap: state bucket, image repository, CI access
- network-<env> (network.py): the VPC
- app-<env> (app.py): the service behind its load balancer

This module loads no cdktf until `build` runs: stacks.props is read while loading the config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from cdktf import App, TerraformStack

    from config import EnvironmentConfig

# What the cdktf CLI deploys first. The state stack is the bootstrap, applied by ops.deploy
# (its first apply needs the local backend cdktf cannot switch to), so no cdktf command pulls it
# in: `cdktf deploy network-uat app-uat` runs as it is.
CDKTF_DEPENDENCIES = {"app": "network"}


def build(app: App, environments: Iterable[EnvironmentConfig]) -> dict[str, TerraformStack]:
    """Every environment's stacks in one app; the app depends on its network."""
    from .app import ApplicationStack
    from .network import NetworkStack
    from .state import StateStack

    kinds = {"state": StateStack, "network": NetworkStack, "app": ApplicationStack}
    stacks: dict[str, TerraformStack] = {}
    for environment in environments:
        names = environment.stack_names
        for kind, name in names.items():
            stacks[name] = kinds[kind](app, name, environment)
            if kind in CDKTF_DEPENDENCIES:
                stacks[name].add_dependency(stacks[names[CDKTF_DEPENDENCIES[kind]]])
    return stacks
