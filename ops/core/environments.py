"""The environment files (environments/*.toml, or $ENVIRONMENTS_DIR), loaded once per call and
validated together: the one way a command gets its environments."""

from __future__ import annotations

from config import EnvironmentConfig, environments_dir, load_environments, select_environments
from ops.errors import BadInput


def load(names: str | None = None) -> list[EnvironmentConfig]:
    """The comma-separated `names` (all when empty), in the order given; ConfigError (one line)
    for a bad file or an unknown name."""
    return select_environments(load_environments(environments_dir()), names)


def load_one(name: str) -> EnvironmentConfig:
    """The environment `name`; ConfigError (one line) for a bad file or an unknown name,
    BadInput for a list."""
    found = load(name)
    if len(found) != 1:
        raise BadInput(f"--env {name}: names {len(found)} environments; this command acts on "
                       "one (--env <name>)")
    return found[0]


def select_stacks(environment: EnvironmentConfig, names: list[str] | None) -> list[str]:
    """The named stacks of `environment` (all when none), in deploy order."""
    known = list(environment.stack_names.values())
    for name in names or []:
        if name not in known:
            raise BadInput(f"--stack {name}: not a stack of {environment.name}; "
                           f"allowed: {', '.join(known)}")
    return [stack for stack in known if stack in (names or known)]
