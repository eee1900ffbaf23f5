"""Session-wide fixtures: the environments, one synth of every stack they produce, and (for the
end-to-end tier) the local AWS emulator that Terraform deploys to."""

import json
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# Before cdktf loads: its jsii kernel copies this environment once.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
from ops.emulator import aws_environment  # noqa: E402
from ops.core.terraform import cli_environment  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Every AWS client this session starts (Terraform, boto3, the cdktf CLI) talks to the session's
# emulator, never to AWS.
EMULATOR_PORT = _free_port()
os.environ.update(cli_environment())
_environment = aws_environment(EMULATOR_PORT, "ap-south-1", base=os.environ)
os.environ.clear()
os.environ.update(_environment, EMULATOR_PORT=str(EMULATOR_PORT))

import pytest  # noqa: E402

# Only the AWS provider modules the tests import, not all ~2,100 (bench/README.md "Synth
# speed"): before any test module imports one, and after the environment above, which the jsii
# kernel copies.
from lazy_provider_import import FastImportError, activate  # noqa: E402

try:
    activate()
except FastImportError as error:
    pytest.exit(f"error: {error}", returncode=1)

import cdktf  # noqa: E402

# cdktf.Testing is named like a test class; test modules import it. Marked as not a test, pytest
# skips it without the collection warning, whose source lookup parses cdktf's whole module
# (~1 s per importing module, ~8 s of every session).
cdktf.Testing.__test__ = False

from config import load_environments  # noqa: E402

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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """For pytest-xdist's --dist loadgroup (`make test`): the tests of an end-to-end module share
    its deployment, so they form one group, run on one worker in file order (a module may name
    its group itself, e.g. to share one with another module). The groups go first, unit tests
    after, one by one, so that they fill the CPUs while the groups mostly wait on the provider."""
    for item in items:
        if item.get_closest_marker("e2e") and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    items.sort(key=lambda item: item.get_closest_marker("xdist_group") is None)


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


@dataclass
class Example:
    environment: object  # config.EnvironmentConfig
    outdir: Path  # its stacks, synthesized


@pytest.fixture(scope="session")
def several_services(tmp_path_factory) -> Example:
    """examples/several-services (an API on /api/* and a worker), synthesized once."""
    import main

    (environment,) = load_environments(ROOT / "examples" / "several-services")
    outdir = tmp_path_factory.mktemp("several-services")
    main.synth([environment], str(outdir))
    return Example(environment, outdir)


@pytest.fixture(params=ENVIRONMENT_NAMES)
def env(request, environments):
    return environments[request.param]


@pytest.fixture(scope="session")
def emulator():
    """The local AWS emulator on EMULATOR_PORT, for the whole session."""
    from ops.emulator import Emulator

    with Emulator(EMULATOR_PORT) as running:
        yield running


@pytest.fixture(scope="session")
def deployments(synthesized, environments, emulator) -> dict:
    """uat's and prod's stacks as synthesized for the session, deployable to its emulator."""
    from ops.core.runner import Runner

    return {name: Runner(env, dict(os.environ), synthesized.outdir)
            for name, env in environments.items()}


class StateStacks:
    """Each environment's state stack, applied at most once per session (per pytest-xdist
    worker, each of which has its own emulator and synth), in the background: the provider
    spends ~55 s of it waiting for the bucket's lifecycle configuration (bench/README.md "Test
    speed")."""

    def __init__(self, deployments: dict):
        self.deployments = deployments
        self._pool = ThreadPoolExecutor(max_workers=len(deployments))
        self._applies: dict = {}
        self._lock = threading.Lock()

    def _apply(self, name: str):
        with self._lock:
            if name not in self._applies:
                deployment = self.deployments[name]
                self._applies[name] = self._pool.submit(
                    deployment.apply, deployment.environment.stack_names["state"])
            return self._applies[name]

    def bucket(self, *names: str) -> None:
        """Until these environments' state buckets are ready: enough for the other stacks."""
        for name in names:
            self.deployments[name].wait_for_state_bucket(self._apply(name))

    def applied(self, *names: str) -> list:
        """Until these environments' state stacks are applied; their StackResults."""
        return [future.result() for future in [self._apply(name) for name in names]]

    def close(self) -> None:
        self._pool.shutdown(wait=True)


@pytest.fixture(scope="session")
def state_stacks(deployments):
    stacks = StateStacks(deployments)
    yield stacks
    stacks.close()  # before the emulator stops


@dataclass
class Rolling:
    deployment: object  # ops.core.runner.Runner of uat (the session's synth), initialized
    deployed: str  # what the documented deploy printed
    cli_outdir: Path  # the cdktf CLI's synth, for the documented diff and destroy


@pytest.fixture(scope="session")
def rolling(deployments, state_stacks, tmp_path_factory) -> Rolling:
    """The shared rolling environment: uat as docs/delivery.md deploys it, once per worker: the
    state stack by ops (state_stacks), then network and app by the documented `npm run cdktf --
    deploy` (one apply serves the cdktf CLI's checks and ops.deploy's)."""
    from helpers import DELIVERY_COMMANDS, cdktf_cli

    deployment = deployments["uat"]
    state_stacks.bucket("uat")
    outdir = tmp_path_factory.mktemp("rolling") / "cdktf.out"
    deployed = cdktf_cli(DELIVERY_COMMANDS[0], outdir)
    state_stacks.applied("uat")
    for stack in ("network-uat", "app-uat"):
        deployment.init(stack)  # the session's synth reads the state the CLI wrote
    return Rolling(deployment, deployed, outdir)
