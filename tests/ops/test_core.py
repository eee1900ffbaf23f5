"""ops/core without Terraform: the environments one function loads, what a synth's cache
depends on, and the one table of stack outputs the tools read (each declared by the stacks)."""

import importlib
import json

import pytest

from helpers import synth_variant, with_service
from ops import release
from config import outputs
from ops.core import environments, synth
from ops.core import synthesized as reader
from ops.errors import BadInput


def test_a_command_on_one_environment_refuses_a_list_in_one_line():
    with pytest.raises(BadInput) as refused:
        environments.load_one("uat,prod")
    assert str(refused.value) == ("--env uat,prod: names 2 environments; this command acts on "
                                  "one (--env <name>)")
    assert [env.name for env in environments.load("prod,uat")] == ["prod", "uat"]


def test_a_change_to_the_configs_code_synthesizes_again(tmp_path, monkeypatch, environments):
    """The synth cache's inputs cover config/ (names and defaults live there since the config
    moved out of constructs_lib), not only the construct code."""
    for source in synth.SOURCES:
        path = tmp_path / source
        if "." in source:
            path.write_text("x")
        else:
            path.mkdir()
            (path / "__init__.py").write_text("x")
    monkeypatch.setattr(synth, "ROOT", tmp_path)
    uat = environments["uat"]
    before = synth._inputs(uat)
    (tmp_path / "config" / "__init__.py").write_text("y")
    assert synth._inputs(uat) != before


def test_every_output_a_tool_reads_is_declared_by_the_app_stack(synthesized, environments):
    for environment in environments.values():
        app = reader.read(environment.stack_names["app"], synthesized.outdir)
        assert set(outputs.APP) <= set(reader.outputs(app)), environment.name
    blue_green = with_service(environments["uat"],
                              blue_green={"enabled": True, "test_listener_port": 8080})
    app = synth_variant(blue_green)[blue_green.stack_names["app"]]
    assert set(outputs.APP + outputs.BLUE_GREEN) <= set(reader.outputs(app))


def test_a_blue_green_release_hands_codedeploy_the_configs_container_and_port(monkeypatch,
                                                                              environments):
    """The AppSpec's container and port come from the config, not back from stack outputs:
    the outputs a release reads name only what the stack made."""
    environment = with_service(environments["uat"], container_name="api", container_port=9000,
                               blue_green={"enabled": True, "test_listener_port": 8080})
    created = {}

    class CodeDeploy:
        def create_deployment(self, **request):
            created.update(request)
            return {"deploymentId": "d-1"}

        def get_deployment(self, deploymentId):
            return {"deploymentInfo": {"status": "Succeeded"}}

    monkeypatch.setattr(importlib.import_module("ops.release.target"), "client",
                        lambda service, env: CodeDeploy())
    state = release.deploy_with_codedeploy(
        release.Target(environment, env={}),
        {outputs.CODEDEPLOY_APPLICATION: "app", outputs.CODEDEPLOY_DEPLOYMENT_GROUP: "group",
         outputs.TASK_DEFINITION_ARN: "arn:aws:ecs:r:1:task-definition/api:5"},
        "release v2", timeout=5, poll=0, say=lambda line: None)
    assert state == "CodeDeploy deployment d-1 Succeeded: traffic shifted"
    (target,) = json.loads(created["revision"]["appSpecContent"]["content"])["Resources"]
    assert target["TargetService"]["Properties"] == {
        "TaskDefinition": "arn:aws:ecs:r:1:task-definition/api:5",
        "LoadBalancerInfo": {"ContainerName": "api", "ContainerPort": 9000}}
    assert (created["applicationName"], created["deploymentGroupName"]) == ("app", "group")
