"""Session-wide fixtures: the environments, and one synth of every stack they produce."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

# Before cdktf loads: its jsii kernel copies this environment once, and Testing's
# to_be_valid_terraform runs terraform with it.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
from ops.terraform import cli_environment  # noqa: E402

os.environ.update(cli_environment())

import pytest  # noqa: E402

from constructs_lib.config import load_environments  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENT_NAMES = ("uat", "prod")


@dataclass
class Synthesized:
    outdir: Path
    stacks: dict  # stack name -> the cdktf stack object
    json: dict  # stack name -> synthesized JSON string (what the Testing matchers take)

    def parsed(self, stack: str) -> dict:
        return json.loads(self.json[stack])

    def resources(self, stack: str, resource_type: str) -> dict:
        return self.parsed(stack).get("resource", {}).get(resource_type, {})


@pytest.fixture(scope="session")
def environments():
    return {env.name: env for env in load_environments(ROOT / "environments")}


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory, environments) -> Synthesized:
    """Every stack of every environment, synthesized once for the whole session."""
    from cdktf import Testing

    import main

    outdir = tmp_path_factory.mktemp("cdktf.out")
    stacks = main.synth(list(environments.values()), str(outdir))
    return Synthesized(outdir, stacks, {name: Testing.synth(stack)
                                        for name, stack in stacks.items()})


@pytest.fixture(params=ENVIRONMENT_NAMES)
def env(request, environments):
    return environments[request.param]
