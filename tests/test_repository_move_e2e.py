"""The ECR repository moves from the app stack to the state stack without losing an image,
with plain Terraform against the emulator (stacks/state.py StateStack and
stacks/app.py ApplicationStack._repository).

A deployment made before the move is built from the real synth of that layout
(tests/fixtures/repository-in-app-stack): its state stack, and of its app stack only the
repository and its lifecycle policy (the rest needs a network, and none of it moves). Then, in the
order docs/delivery.md gives an administrator and CI: the new state stack plans an import of both
(ops.deploy finds the repository and sets adopt_image_repository) and applies it; the new app
stack plans to forget both, not destroy them, and applies that; the image is still there and
both stacks then plan no change to it. A fresh deployment (nothing to adopt) is every other
end-to-end module's, which applies the state stack first.
"""

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest

from ops.core.runner import Runner
from ops.emulator import put_test_image
from helpers import aws, deployable

pytestmark = pytest.mark.e2e
OLD_LAYOUT = Path(__file__).parent / "fixtures" / "repository-in-app-stack"
MOVED = ["aws_ecr_repository.images_repository", "aws_ecr_lifecycle_policy.images_lifecycle"]


def adopt(uat):
    """uat as the fixture's synth named it: its own project, VPC, CIDR and state bucket."""
    return dataclasses.replace(
        uat, name="adopt", project="adopt",
        network=dataclasses.replace(uat.network, vpc_name="adopt-vpc", cidr="10.60.0.0/16"),
        state=dataclasses.replace(uat.state, bucket="hello-world-adopt-tfstate"))


def plan_json(deployment: Runner, stack: str, *args: str) -> dict:
    """`terraform show -json` of a fresh plan of `stack` (saved as tfplan)."""
    deployment.init(stack)
    result = deployment.terraform(stack, "plan", "-input=false", "-no-color", "-out=tfplan",
                                  *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(deployment.show(stack, "tfplan", "-json"))


def changes(plan: dict) -> dict:
    """address -> (actions, importing) of every resource the plan changes or imports."""
    return {change["address"]: (change["change"]["actions"],
                                "importing" in change["change"])
            for change in plan.get("resource_changes", [])
            if change["change"]["actions"] != ["no-op"] or "importing" in change["change"]}


@pytest.fixture(scope="module")
def layouts(tmp_path_factory, environments, emulator):
    environment = adopt(environments["uat"])
    new = deployable(environment, tmp_path_factory.mktemp("adopt") / "cdktf.out")
    old_out = tmp_path_factory.mktemp("adopt-old") / "cdktf.out"
    shutil.copytree(OLD_LAYOUT, old_out / "stacks", ignore=shutil.ignore_patterns("*.md"))
    old = Runner(environment, dict(os.environ), old_out)
    return environment, old, new


def test_a_deployment_from_before_the_move_keeps_its_images(layouts):
    environment, old, new = layouts
    names, repository = environment.stack_names, environment.names.repository
    # Before: the old state stack (its bucket) and the old app stack's repository and lifecycle.
    old.apply(names["state"])
    old.init(names["app"])
    made = old.terraform(names["app"], "apply", "-input=false", "-no-color", "-auto-approve",
                         *[f"-target={address}" for address in MOVED])
    assert made.returncode == 0, made.stdout + made.stderr
    digest = put_test_image(aws("ecr"), repository, "v1")

    # 1. The administrator applies the new state stack: it imports both. The lifecycle rules
    # changed with the move (released images kept apart), and the provider replaces a
    # lifecycle policy to change it; the repository, and so its images, stays.
    plan = plan_json(new, names["state"])
    assert {address: changes(plan).get(address) for address in MOVED} == {
        MOVED[0]: (["no-op"], True), MOVED[1]: (["delete", "create"], True)}
    new.apply_saved(names["state"], "tfplan")

    # 2. CI applies the new app stack: it forgets both ("removed"), destroys nothing.
    plan = plan_json(new, names["app"], *[f"-target={address}" for address in MOVED])
    assert changes(plan) == {address: (["forget"], False) for address in MOVED}
    shown = new.show(names["app"], "tfplan", "-no-color")
    for address in MOVED:
        assert f"# {address} will no longer be managed by Terraform" in shown
    new.apply_saved(names["app"], "tfplan")

    # The image survived; each stack sees the repository where it now belongs.
    (image,) = aws("ecr").describe_images(repositoryName=repository)["imageDetails"]
    assert (image["imageDigest"], image["imageTags"]) == (digest, ["v1"])
    state = new.terraform(names["state"], "state", "list").stdout.split()
    app = new.terraform(names["app"], "state", "list").stdout.split()
    assert set(MOVED) <= set(state) and not set(MOVED) & set(app)
    assert {address: change for address, change in changes(plan_json(new, names["state"])).items()
            if address in MOVED} == {}
