"""Secrets by reference and ECS Exec (issue #21), through synthesized app stacks: the container's
`secrets` name only references, the execution role may read exactly those (and decrypt with
their customer managed key, through SSM or Secrets Manager only), ECS Exec is off unless turned
on and then the task role may open Session Manager's channels; bad references are one line
naming the config key."""

import pytest

from config import FieldError
from helpers import document, synth_variant, with_service
from stacks.props import check

ACCOUNT = "${data.aws_caller_identity.account.account_id}"
PARTITION = "${data.aws_partition.partition.partition}"
SECRET = "arn:aws:secretsmanager:ap-south-1:123456789012:secret:uat/api-token-AbCdEf"
KEY = "arn:aws:kms:ap-south-1:123456789012:key/0e7c2a4b-1d3f-4a5b-9c8d-112233445566"
SECRETS = {"DB_PASSWORD": "/acme/uat/db-password", "API_TOKEN": f"{SECRET}:token::"}


@pytest.fixture(scope="module")
def app(environments):
    uat = with_service(environments["uat"], secrets=SECRETS, secrets_kms_key_arns=(KEY,),
                       enable_execute_command=True, read_only_root_filesystem=False)
    return synth_variant(uat)["app-uat"]


def resources(stack, kind) -> dict:
    return stack["resource"].get(kind, {})


def policy(stack, name) -> dict:
    found = resources(stack, "aws_iam_role_policy")[name]
    return {statement["Sid"]: statement for statement in document(found["policy"])["Statement"]}


def test_the_container_gets_references_never_values(app):
    (task,) = resources(app, "aws_ecs_task_definition").values()
    (container,) = document(task["container_definitions"])
    assert container["secrets"] == [{"name": "API_TOKEN", "valueFrom": f"{SECRET}:token::"},
                                    {"name": "DB_PASSWORD", "valueFrom": "/acme/uat/db-password"}]
    assert {"API_TOKEN", "DB_PASSWORD"}.isdisjoint(
        one["name"] for one in container["environment"])


def test_the_execution_role_reads_exactly_the_secrets_and_decrypts_only_through_them(app):
    statements = policy(app, "service_execution_role_policy")
    assert statements["ReadSecretParameters"]["Action"] == "ssm:GetParameters"
    assert statements["ReadSecretParameters"]["Resource"] == [
        f"arn:{PARTITION}:ssm:ap-south-1:{ACCOUNT}:parameter/acme/uat/db-password"]
    assert statements["ReadSecrets"] == {
        "Sid": "ReadSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
        "Resource": [SECRET]}
    assert statements["DecryptSecrets"]["Resource"] == [KEY]
    assert statements["DecryptSecrets"]["Condition"] == {"StringEquals": {"kms:ViaService": [
        "ssm.ap-south-1.amazonaws.com", "secretsmanager.ap-south-1.amazonaws.com"]}}
    assert app["data"]["aws_caller_identity"]  # the account of the parameters' ARN


def test_exec_on_lets_the_task_open_session_channels_and_log_the_session(app):
    (service,) = resources(app, "aws_ecs_service").values()
    assert service["enable_execute_command"] is True
    statements = policy(app, "service_task_role_execute_command")
    assert statements["SessionChannels"]["Action"] == [
        "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]
    assert statements["LogSessions"]["Resource"] == (
        "${aws_cloudwatch_log_group.service_log_group.arn}:*")


def test_without_them_nothing_of_either_is_synthesized(synthesized, env):
    app = synthesized.parsed(f"app-{env.name}")
    (task,) = resources(app, "aws_ecs_task_definition").values()
    assert "secrets" not in document(task["container_definitions"])[0]
    (service,) = resources(app, "aws_ecs_service").values()
    assert "enable_execute_command" not in service
    assert "service_task_role_execute_command" not in resources(app, "aws_iam_role_policy")
    assert {"ReadSecretParameters", "ReadSecrets", "DecryptSecrets"}.isdisjoint(
        policy(app, "service_execution_role_policy"))


@pytest.mark.parametrize("change, message", [
    (dict(secrets={"DB": "arn:aws:s3:::bucket"}),
     "service.secrets.DB = 'arn:aws:s3:::bucket': not an SSM parameter (name or ARN) or a "
     "Secrets Manager secret ARN"),
    (dict(secrets={"DB": "arn:aws:ssm:eu-west-1:123456789012:parameter/db"}),
     "service.secrets.DB = 'arn:aws:ssm:eu-west-1:123456789012:parameter/db': is in "
     "eu-west-1; the service runs in ap-south-1: keep its secrets in its own region"),
    (dict(secrets={"NODE_ENV": "/acme/uat/node-env"}),
     "service.secrets.NODE_ENV = '/acme/uat/node-env': is also a plain environment variable: "
     "keep it in one of the two"),
    (dict(secrets={"1DB": "/db"}), "service.secrets.1DB = '/db': variable names are letters"),
    (dict(secrets_kms_key_arns=(KEY,)),
     "service.secrets_kms_key_arns = ('arn:aws:kms:ap-south-1:123456789012:key/0e7c2a4b-1d3f-"
     "4a5b-9c8d-112233445566',): only with secrets"),
])
def test_a_bad_secret_is_one_line_naming_the_key(environments, change, message):
    with pytest.raises(FieldError) as error:
        check(with_service(environments["uat"], **change))
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_exec_on_a_read_only_root_is_one_line_naming_both_keys(environments):
    # ECS Exec's agent stops on a read-only root: ExecuteCommand would never work.
    with pytest.raises(FieldError) as error:
        check(with_service(environments["uat"], enable_execute_command=True))
    assert str(error.value) == (
        "service.enable_execute_command = True: ECS Exec's agent needs a writable root file "
        "system: set read_only_root_filesystem = false with it (or leave ECS Exec off)")
    check(with_service(environments["uat"], enable_execute_command=True,
                       read_only_root_filesystem=False))


def test_with_exec_on_the_container_root_is_writable(app):
    (task,) = resources(app, "aws_ecs_task_definition").values()
    assert document(task["container_definitions"])[0]["readonlyRootFilesystem"] is False


def test_a_secret_in_another_account_than_the_configured_one_is_refused(environments):
    import dataclasses

    uat = environments["uat"]
    uat = dataclasses.replace(uat, ci=dataclasses.replace(uat.ci, account_id="111111111111"))
    with pytest.raises(FieldError, match=r"^service\.secrets\.T = .*: is in account "
                                         r"123456789012, not the service's 111111111111$"):
        check(with_service(uat, secrets={"T": SECRET}))
