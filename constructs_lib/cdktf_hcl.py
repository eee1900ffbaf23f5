"""Workarounds for cdktf 0.21's HCL output (`cdktf synth --hcl`, ops.export_hcl), fenced here.

cdktf writes the JSON of a stack's overrides as given, but its HCL renderer
(cdktf/lib/hcl/render.js, renderTerraform; terraform-stack.js, toHclTerraform):
- writes an attribute of the `terraform` block other than required_providers/backend/cloud as
  `0 = "<name>"` (it renders the list of the attribute names, not the attributes);
- drops top-level blocks it has no construct for, such as `removed` (Terraform 1.7).
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


def repair(hcl: str, terraform_attributes: dict[str, str],
           removed: list[str]) -> str:
    """The stack's HCL with `terraform_attributes` (name -> string value, in the order they were
    added as overrides) written as attributes and a `removed` block (destroy = false) for each
    address in `removed`."""
    for index, (name, value) in enumerate(terraform_attributes.items()):
        hcl = _terraform_attribute(hcl, index, name, value)
    if removed:
        if re.search(r"^removed \{", hcl, re.M):
            raise CdktfHclChanged("cdktf's HCL writes removed blocks now: remove this "
                                  "workaround (constructs_lib/cdktf_hcl.py)")
        hcl = "\n\n".join([hcl.rstrip("\n"), *map(removed_block, removed)]) + "\n"
    return hcl


def repaired(output: Any, terraform_attributes: dict[str, str], removed: list[str]) -> dict:
    """TerraformStack.to_hcl_terraform's result ({hcl, metadata}) with its HCL repaired."""
    return {**output, "hcl": repair(output["hcl"], terraform_attributes, removed)}
