"""Loading: TOML tables -> the config dataclasses, with unknown keys and wrong types reported by
field path, then checked as the constructs' props they map onto (stacks/props.py), and against
each other."""

from __future__ import annotations

import collections.abc
import dataclasses
import difflib
import enum
import os
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Mapping

from .delivery import delivery_order
from .schema import ConfigError, EnvironmentConfig, FieldError


def unset_allowed(hint: Any) -> Any:
    """`X` for a hint `X | None` (a key that may be left unset), else the hint."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    return hint


def _describe(hint: Any) -> str:
    hint = unset_allowed(hint)
    origin = typing.get_origin(hint)
    if hint is bool:
        return "true or false"
    if hint is int:
        return "a whole number"
    if hint is float:
        return "a number"
    if hint is str:
        return "a string"
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return "one of " + ", ".join(repr(member.value) for member in hint)
    if origin is tuple:
        return f"a list of {_describe(typing.get_args(hint)[0])}s"
    if origin in (collections.abc.Mapping, dict):
        return "a table of strings"
    if dataclasses.is_dataclass(hint):
        return "a table"
    return str(hint)


def _convert(hint: Any, value: Any, path: str) -> Any:
    hint = unset_allowed(hint)
    origin = typing.get_origin(hint)
    wrong = FieldError(path, value, f"expected {_describe(hint)}")
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise wrong
        return _build(hint, value, path)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError:
            raise wrong from None
    if origin is tuple:
        if not isinstance(value, list):
            raise wrong
        item = typing.get_args(hint)[0]
        return tuple(_convert(item, element, path) for element in value)
    if origin in (collections.abc.Mapping, dict) and dataclasses.is_dataclass(
            item := typing.get_args(hint)[1]):
        # [services.<name>] tables: the table's name is the item's `name`.
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise FieldError(path, value, "expected tables, one per name")
        return {key: _build(item, table, f"{path}.{key}", name=key)
                for key, table in value.items()}
    if origin in (collections.abc.Mapping, dict):
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise wrong
        return dict(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong
        return value
    if hint is int and isinstance(value, bool) or not isinstance(value, hint):
        raise wrong
    return value


def _build(cls: type, data: Mapping[str, Any], path: str = "", **given: Any) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)
              if f.name not in given and not f.metadata.get("internal")}
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise FieldError(key, data[key], f"unknown key; {hint}allowed: {', '.join(fields)}"
                             ).under(path)
    missing = [name for name, f in fields.items() if name not in data
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise FieldError(missing[0], None, "required, but missing").under(path)
    values = {name: _convert(hints[name], data[name], f"{path}.{name}" if path else name)
              for name in fields if name in data}
    try:
        return cls(**given, **values)
    except FieldError as error:
        raise error.under(path) from None


def environments_dir() -> Path:
    """Where the environment files are: $ENVIRONMENTS_DIR, else the project's environments/."""
    return Path(os.environ.get("ENVIRONMENTS_DIR")
                or Path(__file__).resolve().parent.parent / "environments")


def load_environment(path: Path) -> EnvironmentConfig:
    """Read and validate one environment file; raises ConfigError with a one-line message."""
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
        environment = _build(EnvironmentConfig, data, name=path.stem)
        from stacks.props import check  # the props' own checks, with the keys' paths
        check(environment)
        return environment
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except FieldError as error:
        raise ConfigError(f"{path}: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None


def load_environments(directory: Path) -> list[EnvironmentConfig]:
    """Every `*.toml` in `directory`, validated alone and against each other."""
    files = sorted(Path(directory).glob("*.toml"))
    if not files:
        raise ConfigError(f"{directory}: no environment files (*.toml) found")
    environments = [load_environment(file) for file in files]
    from stacks.props import network as network_props
    cidrs = [network_props(environment).network for environment in environments]
    for i, pair in enumerate(zip(files, environments, cidrs)):
        for other in zip(files[i + 1:], environments[i + 1:], cidrs[i + 1:]):
            # A clash names the file edited last: most likely the one to change.
            (first_file, first, first_cidr), (second_file, second, second_cidr) = sorted(
                (pair, other), key=lambda item: item[0].stat().st_mtime_ns)
            if first_cidr.overlaps(second_cidr):
                raise ConfigError(
                    f"{second_file}: network.cidr = {str(second_cidr)!r}: overlaps "
                    f"{first_file.name}'s {first_cidr}; environments need disjoint CIDRs "
                    "so they can be peered later")
            if first.state.bucket == second.state.bucket:
                raise ConfigError(
                    f"{second_file}: state.bucket = {second.state.bucket!r}: already used by "
                    f"{first_file.name}; give each environment its own state bucket")
            accounts = {first.ci.account, second.ci.account}
            if (first.ci.enabled and second.ci.enabled
                    and first.ci.oidc_provider == second.ci.oidc_provider == "create"
                    and ("" in accounts or len(accounts) == 1)):
                raise ConfigError(
                    f"{second_file}: ci.oidc_provider = 'create': {first_file.name} creates the "
                    "GitHub OIDC provider too, and an AWS account holds one; set "
                    'oidc_provider = "lookup" (or its ARN) here, or distinct ci.account_id values '
                    "if the two deploy to different accounts")
            if (first.region, first.network.vpc_name) == (second.region, second.network.vpc_name):
                raise ConfigError(
                    f"{second_file}: network.vpc_name = {second.network.vpc_name!r}: already used "
                    f"by {first_file.name} in {first.region}; the application finds its VPC by it")
            for one in first.each_service():
                for two in second.each_service():
                    if (one.service.ecr_repository and two.service.ecr_repository
                            and (one.region, one.names.repository)
                            == (two.region, two.names.repository)):
                        raise ConfigError(
                            f"{second_file}: {two.config_path('service.ecr_repository')} = true: "
                            f"repository '{two.names.repository}' in {two.region} is already "
                            f"created by {first_file.name}; share it with "
                            f"{two.config_path('service.ecr_repository_owner')} = "
                            f"\"{first.name}\" (and ecr_repository = false), or give this "
                            + ("service another name" if two.several
                               else "environment another service.name"))
    by_name = dict(zip((env.name for env in environments), zip(files, environments)))
    for file, each in zip(files, environments):
        for environment in each.each_service():
            _check_repository_owner(file, environment, by_name)
    order = [env.name for env in delivery_order(environments)]  # validates promote_from
    return [dataclasses.replace(env, release_environments=_release_environments(
        env, environments, order)) for env in environments]


def _release_environments(owner: EnvironmentConfig, environments: list[EnvironmentConfig],
                          order: list[str]) -> tuple[str, ...]:
    """The environments whose services run images from a repository `owner` creates (itself
    included), the one delivered last first: each keeps its own released images (the
    lifecycle policy's rules, ImageRepository)."""
    if not any(one.service.ecr_repository for one in owner.each_service()):
        return ()
    users = {owner.name} | {env.name for env in environments for one in env.each_service()
                            if one.service.ecr_repository_owner == owner.name}
    return tuple(name for name in reversed(order) if name in users)


def _check_repository_owner(file: Path, environment: EnvironmentConfig,
                            by_name: dict[str, tuple[Path, EnvironmentConfig]]) -> None:
    """The focused service's ecr_repository_owner names an environment that creates the
    same repository (its service of the same name)."""
    owner_name = environment.service.ecr_repository_owner
    if not owner_name:
        return
    key = environment.service.name
    field_text = (f"{file}: {environment.config_path('service.ecr_repository_owner')} = "
                  f"{owner_name!r}")

    def creates(env: EnvironmentConfig) -> EnvironmentConfig | None:
        return next((one for one in env.each_service()
                     if one.service.ecr_repository
                     and (not env.several or one.service.name == key)), None)

    if owner_name not in by_name or owner_name == environment.name:
        others = [name for name, (_, env) in by_name.items() if creates(env)]
        raise ConfigError(f"{field_text}: not another environment that creates a repository; "
                          f"allowed: {', '.join(others) or 'none (set ecr_repository = true in one)'}")
    owner_file, owner_environment = by_name[owner_name]
    owner = creates(owner_environment)
    if owner is None:
        raise ConfigError(f"{field_text}: {owner_file.name} creates no repository"
                          + (f" for service {key}" if owner_environment.several else "")
                          + f"; set {environment.config_path('service.ecr_repository')} = true "
                            "there")
    if (owner.region, owner.names.repository) != (environment.region,
                                                  environment.names.repository):
        raise ConfigError(
            f"{field_text}: {owner_file.name} creates '{owner.names.repository}' in "
            f"{owner.region}, this environment would run '{environment.names.repository}' "
            f"in {environment.region}; use the same region, project and service.name")


def select_environments(environments: list[EnvironmentConfig], names: str | None
                        ) -> list[EnvironmentConfig]:
    """Keep the comma-separated `names` (all when empty)."""
    if not names:
        return environments
    known = {env.name: env for env in environments}
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    for name in wanted:
        if name not in known:
            raise ConfigError(f"ENVIRONMENTS = {name!r}: unknown environment; "
                              f"allowed: {', '.join(known)}")
    return [known[name] for name in wanted]
