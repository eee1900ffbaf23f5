"""The delivery order (deploy.yml): which environment each one is promoted from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .schema import ConfigError

if TYPE_CHECKING:
    from .schema import EnvironmentConfig


def delivery_order(environments: list[EnvironmentConfig]) -> list[EnvironmentConfig]:
    """`environments` in deploy order (each after the one it is promoted from, else by name);
    ConfigError for a `delivery.promote_from` naming an unknown environment or closing a cycle."""
    import graphlib

    known = {env.name: env for env in environments}
    sorter = graphlib.TopologicalSorter()
    for name in sorted(known):  # so that environments with no order between them go by name
        sorter.add(name)
    for env in environments:
        source = env.delivery.promote_from
        if source and source not in known.keys() - {env.name}:
            raise ConfigError(
                f"environments/{env.name}.toml: delivery.promote_from = {source!r}: unknown "
                f"environment; allowed: {', '.join(sorted(known.keys() - {env.name}))}, or empty")
        sorter.add(env.name, *([source] if source else []))
    try:
        return [known[name] for name in sorter.static_order()]
    except graphlib.CycleError as error:
        cycle = " -> ".join(error.args[1])
        raise ConfigError(f"delivery.promote_from: a cycle, each promoting to the next: {cycle}; "
                          "one of them must take the new build (no promote_from)") from None
