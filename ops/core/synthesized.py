"""The one reader of what was synthesized: `<outdir>/stacks/<stack>/cdk.tf.json`, each stack's
Terraform JSON (its resources and data sources, backend, providers, outputs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

from ops.core import OUTDIR

FILE = "cdk.tf.json"


def stack_dir(stack: str, outdir: Path = OUTDIR) -> Path:
    """The folder Terraform runs `stack` in."""
    return Path(outdir) / "stacks" / stack


def stack_file(stack: str, outdir: Path = OUTDIR) -> Path:
    return stack_dir(stack, outdir) / FILE


def exists(stack: str, outdir: Path = OUTDIR) -> bool:
    return stack_file(stack, outdir).is_file()


def read(stack: str, outdir: Path = OUTDIR) -> dict:
    """`stack`'s synthesized JSON; FileNotFoundError (one line) when it is not synthesized."""
    path = stack_file(stack, outdir)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: synthesize first (make synth)")
    return json.loads(path.read_text())


def read_stacks(names: Iterable[str], outdir: Path = OUTDIR) -> dict[str, dict]:
    """Each of `names`' synthesized JSON, by stack name."""
    return {name: read(name, outdir) for name in names}


def synthesized_stacks(outdir: Path = OUTDIR) -> list[str]:
    """The stacks synthesized in `outdir`, by name."""
    return sorted(path.parent.name for path in (Path(outdir) / "stacks").glob(f"*/{FILE}"))


def backend(document: dict) -> dict:
    """The backend block: {"s3": {"bucket", "key", ...}} or {"local": {"path"}}."""
    return document.get("terraform", {}).get("backend", {})


def blocks(document: dict, section: str = "resource") -> Iterator[tuple[str, str, dict]]:
    """(type, name, body) of every block in `section` ("resource" or "data")."""
    for kind, named in document.get(section, {}).items():
        for name, body in named.items():
            yield kind, name, body


def outputs(document: dict) -> dict[str, dict]:
    """The stack's outputs by name ({"value": ..., "description": ...})."""
    return document.get("output", {})


def region(document: dict) -> str:
    """The AWS provider's region ("" when the stack has none)."""
    providers = document.get("provider", {}).get("aws") or [{}]
    provider = providers[0] if isinstance(providers, list) else providers
    return provider.get("region", "")
