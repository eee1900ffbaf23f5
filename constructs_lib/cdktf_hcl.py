"""Workarounds for cdktf 0.21's HCL output (`cdktf synth --hcl`, ops.export_hcl), fenced here.

cdktf writes the JSON of a stack's overrides as given, but its HCL renderer
(cdktf/lib/hcl/render.js, renderTerraform; terraform-stack.js, toHclTerraform):
- writes an attribute of the `terraform` block other than required_providers/backend/cloud as
  `0 = "<name>"` (it renders the list of the attribute names, not the attributes);
- drops top-level blocks it has no construct for, such as `removed` (Terraform 1.7), `moved`
  given as overrides, and `import` blocks given as overrides (TerraformResource.import_from has no for_each);
- drops a variable's default when it is false (the variable becomes required).
EnvironmentStack hands its HCL through `repair` to put both back. Each repair fails loudly when
cdktf's output is no longer what it works around: then delete it.
"""

from __future__ import annotations

import json
import re
from typing import Any


class CdktfHclChanged(RuntimeError):
    """cdktf's HCL is not what a workaround here expects (fixed or changed upstream)."""


def _terraform_attribute(hcl: str, index: int, name: str, value: str) -> str:
    broken = re.compile(rf'^[ \t]*{index} = "{re.escape(name)}"$', re.M)
    if len(broken.findall(hcl)) != 1:
        raise CdktfHclChanged(
            f"cdktf's HCL no longer writes the terraform block's {name} as "
            f'`{index} = "{name}"`: remove this workaround (constructs_lib/cdktf_hcl.py)')
    return broken.sub(lambda _: f"{name} = {json.dumps(value)}", hcl)


def removed_block(address: str) -> str:
    """`removed { from = <address> lifecycle { destroy = false } }` in HCL."""
    return f"removed {{\nfrom = {address}\nlifecycle {{\ndestroy = false\n}}\n}}"


def moved_block(block: dict[str, str]) -> str:
    """`moved { from = <address> to = <address> }` in HCL."""
    return f"moved {{\nfrom = {block['from']}\nto = {block['to']}\n}}"


def _false_default(hcl: str, variable: str) -> str:
    block = re.compile(rf'^(variable "{re.escape(variable)}" \{{\n)(.*?^\}})', re.M | re.S)
    found = block.search(hcl)
    if found is None or re.search(r"^\s*default\s*=", found.group(2), re.M):
        raise CdktfHclChanged(f"cdktf's HCL writes variable {variable}'s default false now (or "
                              "no such variable): remove this workaround (constructs_lib/"
                              "cdktf_hcl.py)")
    return block.sub(lambda m: m.group(1) + "default = false\n" + m.group(2), hcl, count=1)


def _expression(value: str) -> str:
    """A JSON-syntax value ("${expr}" or a literal string) as HCL."""
    whole = re.fullmatch(r"\$\{(.*)\}", value, re.S)
    return whole.group(1) if whole else json.dumps(value)


def import_block(block: dict[str, str]) -> str:
    """An `import` block of the JSON syntax ({for_each?, to, id}) in HCL; `to` is an address."""
    lines = [f"{key} = {block[key] if key == 'to' else _expression(block[key])}"
             for key in ("for_each", "to", "id") if key in block]
    return "import {\n" + "\n".join(lines) + "\n}"


def repair(hcl: str, terraform_attributes: dict[str, str], removed: list[str],
           imports: list[dict[str, str]], false_variables: set[str] = frozenset(),
           moved: list[dict[str, str]] = ()) -> str:
    """The stack's HCL with `terraform_attributes` (name -> string value, in the order they were
    added as overrides) written as attributes, a `removed` block (destroy = false) for each
    address in `removed`, the `imports` (JSON-syntax import blocks), the `moved` blocks ({from,
    to}), and `default = false` in the variables `false_variables`."""
    for index, (name, value) in enumerate(terraform_attributes.items()):
        hcl = _terraform_attribute(hcl, index, name, value)
    for variable in sorted(false_variables):
        hcl = _false_default(hcl, variable)
    for kind, blocks, render in (("removed", removed, removed_block),
                                 ("import", imports, import_block),
                                 ("moved", moved, moved_block)):
        if not blocks:
            continue
        if re.search(rf"^{kind} \{{", hcl, re.M):
            raise CdktfHclChanged(f"cdktf's HCL writes the {kind} blocks of overrides now: "
                                  "remove this workaround (constructs_lib/cdktf_hcl.py)")
        hcl = "\n\n".join([hcl.rstrip("\n"), *map(render, blocks)]) + "\n"
    return hcl


def repaired(output: Any, terraform_attributes: dict[str, str], removed: list[str],
             imports: list[dict[str, str]], false_variables: set[str] = frozenset(),
             moved: list[dict[str, str]] = ()) -> dict:
    """TerraformStack.to_hcl_terraform's result ({hcl, metadata}) with its HCL repaired."""
    return {**output, "hcl": repair(output["hcl"], terraform_attributes, removed, imports,
                                    false_variables, moved)}
