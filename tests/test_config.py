"""config/: loading, defaults, and one test per kind of bad input.

Bad input is tested through main.py in a subprocess (it fails before cdktf loads, so these are
fast): exit code 2, one line on stderr naming the file, the field, the value and what is allowed.
"""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import (ConfigError, FieldError, NatGateways, ServiceConfig, load_environment,
                    load_environments, select_environments)
from constructs_lib.props import PropError
from constructs_lib.props.fargate_service import ScalingProps
from constructs_lib.props.network import NetworkProps
from helpers import with_service
from stacks.props import check, fargate_service, network

ROOT = Path(__file__).resolve().parent.parent
UAT = (ROOT / "environments" / "uat.toml").read_text()
PROD = (ROOT / "environments" / "prod.toml").read_text()


def run_main(tmp_path: Path, files: dict[str, str]) -> subprocess.CompletedProcess:
    """main.py over `files`, written (and dated) in the given order: the last is the newest."""
    for number, (name, text) in enumerate(files.items()):
        (tmp_path / name).write_text(text)
        os.utime(tmp_path / name, ns=(number * 10**9, number * 10**9))
    return subprocess.run([sys.executable, str(ROOT / "main.py")], cwd=tmp_path,
                          env={"ENVIRONMENTS_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)


def edited(old: str, new: str, text: str = UAT) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def changed(path: str, old, new, allowed: str) -> tuple[str, str, str]:
    """uat.toml with `<key> = old` set to `new`, and what the error line must say: the dotted
    `path` (ending in the key) = new, and what is allowed."""
    key = path.rsplit(".", 1)[-1]
    return (edited(f"{key} = {json.dumps(old)}", f"{key} = {json.dumps(new)}"),
            f"{path} = {new!r}", allowed)


BAD_INPUT = {
    "invalid CIDR": changed("network.cidr", "10.0.0.0/16", "10.0.0.300/16", "IPv4 network"),
    "CIDR with host bits": changed("network.cidr", "10.0.0.0/16", "10.0.0.1/16", "no host bits"),
    "subnets do not fit the VPC": (
        edited('cidr = "10.0.0.0/16"', 'cidr = "10.0.0.0/22"'),
        "network.subnet_prefix_length = 24", "must be between 25 and 28: 6 subnets (2 tiers x "
                                             "max_availability_zones=3) fit in 10.0.0.0/22"),
    "subnet mask larger than the VPC": changed("network.subnet_prefix_length", 24, 12,
                                               "must be between 19 and 28: 6 subnets"),
    "a VPC too small for any subnets": changed(
        "network.cidr", "10.0.0.0/16", "10.0.0.0/27",
        "6 subnets (2 tiers x max_availability_zones=3) of at least /28 do not fit in a /27; use "
        "/25 or larger (e.g. 10.0.0.0/25)"),
    "a region that does not exist": changed("region", "ap-south-1", "ap-soth-1",
                                            "not an AWS region; did you mean 'ap-south-1'?"),
    "fewer than 2 AZs": (
        edited('["ap-south-1a", "ap-south-1b", "ap-south-1c"]', '["ap-south-1a"]'),
        "network.availability_zones = ['ap-south-1a']", "at least 2"),
    "AZ outside the region": (
        edited('"ap-south-1c"]', '"eu-west-1c"]'),
        "network.availability_zones = 'eu-west-1c'", "must be in region ap-south-1"),
    "AZ beyond the reserved slots": (
        edited('"ap-south-1c"]', '"ap-south-1d"]'),
        "network.availability_zones = 'ap-south-1d'", "first max_availability_zones=3 letters"),
    "NAT choice": changed("network.nat_gateways", "single", "two",
                          "one of 'single', 'one_per_az'"),
    "cpu Fargate does not have": changed("service.cpu", 2048, 3000,
                                         "Fargate allows 256, 512, 1024"),
    "memory not allowed for the cpu": changed(
        "service.memory", 4096, 2048,
        "with cpu=2048 Fargate allows 4096-16384 MiB in steps of 1024"),
    "min above max": changed("service.scaling.min_capacity", 1, 5,
                             "must not exceed max_capacity=3"),
    "target above 100": changed("service.scaling.cpu_target_percent", 70, 170, "between 1 and 100"),
    "target below 1": changed("service.scaling.cpu_target_percent", 70, 0, "between 1 and 100"),
    "port above 65535": changed("service.container_port", 8000, 70000, "between 1 and 65535"),
    "port 0": changed("service.container_port", 8000, 0, "between 1 and 65535"),
    "typo in a key": (edited("container_port = 8000", "containr_port = 8000"),
                      "service.containr_port = 8000", "did you mean 'container_port'?"),
    "unknown section": (UAT + "\n[servce]\nname = 'x'\n", "servce = ", "did you mean 'service'?"),
    "wrong type": (edited("cpu = 2048", 'cpu = "2048"'), "service.cpu = '2048'",
                   "expected a whole number"),
    "missing required key": (edited('vpc_name = "uat-vpc"\n', ""),
                             "network.vpc_name = None", "required, but missing"),
    "log retention CloudWatch lacks": (
        edited("memory = 4096", "memory = 4096\nlog_retention_days = 31"),
        "service.log_retention_days = 31", "CloudWatch Logs allows 1, 3, 5"),
    "an environment variable name": (
        edited('environment = { NODE_ENV = "uat" }', 'environment = { "1X" = "uat" }'),
        "service.environment.1X = 'uat'", "variable names are letters, digits and '_'"),
    "a health check timeout not below the interval": (
        UAT + "\n[service.health_check]\ntimeout_seconds = 30\n",
        "service.health_check.timeout_seconds = 30", "must be less than interval_seconds=30"),
    "state bucket name S3 refuses": changed("state.bucket", "hello-world-uat-tfstate",
                                            "Hello_World", "an S3 bucket name"),
    "not TOML": (UAT + "\nthis is not toml\n", "not valid TOML", ""),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_fails_with_one_clear_line(tmp_path, case):
    text, field, allowed = BAD_INPUT[case]
    result = run_main(tmp_path, {"uat.toml": text})
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith(f"error: {tmp_path / 'uat.toml'}: ")
    assert field in lines[0] and allowed in lines[0]


def test_overlapping_environment_cidrs_fail(tmp_path):
    overlapping = edited('cidr = "10.1.0.0/16"', 'cidr = "10.0.128.0/17"', PROD)
    result = run_main(tmp_path, {"uat.toml": UAT, "prod.toml": overlapping})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {tmp_path / 'prod.toml'}: network.cidr = '10.0.128.0/17': overlaps uat.toml's "
        "10.0.0.0/16; environments need disjoint CIDRs so they can be peered later")


def test_a_new_environment_that_clashes_is_the_one_named(tmp_path):
    staging = edited('vpc_name = "uat-vpc"', 'vpc_name = "staging-vpc"').replace(
        "hello-world-uat-tfstate", "hello-world-staging-tfstate")
    result = run_main(tmp_path, {"uat.toml": UAT, "prod.toml": PROD, "staging.toml": staging})
    assert result.stderr.strip() == (
        f"error: {tmp_path / 'staging.toml'}: network.cidr = '10.0.0.0/16': overlaps uat.toml's "
        "10.0.0.0/16; environments need disjoint CIDRs so they can be peered later")


def test_same_vpc_name_in_one_region_fails(tmp_path):
    clash = edited('vpc_name = "prod-vpc"', 'vpc_name = "uat-vpc"', PROD)
    result = run_main(tmp_path, {"uat.toml": UAT, "prod.toml": clash})
    assert result.returncode == 2
    assert f"{tmp_path / 'prod.toml'}: network.vpc_name = 'uat-vpc': already used by uat.toml" \
        in result.stderr


def test_shared_state_bucket_fails(tmp_path):
    shared = edited('bucket = "hello-world-prod-tfstate"', 'bucket = "hello-world-uat-tfstate"',
                    PROD)
    result = run_main(tmp_path, {"uat.toml": UAT, "prod.toml": shared})
    assert result.returncode == 2
    assert f"{tmp_path / 'prod.toml'}: state.bucket = 'hello-world-uat-tfstate': already used " \
        "by uat.toml" in result.stderr


def test_no_environment_files_fails(tmp_path):
    result = run_main(tmp_path, {})
    assert result.returncode == 2
    assert "no environment files" in result.stderr


def test_unknown_environment_selected_fails(tmp_path):
    (tmp_path / "uat.toml").write_text(UAT)
    result = subprocess.run([sys.executable, str(ROOT / "main.py")], capture_output=True,
                            text=True, env={"ENVIRONMENTS_DIR": str(tmp_path),
                                            "ENVIRONMENTS": "uat,stage"})
    assert result.returncode == 2
    assert result.stderr.strip() == "error: ENVIRONMENTS = 'stage': unknown environment; " \
                                    "allowed: uat"


def test_shipped_environments_load(environments):
    assert set(environments) == {"uat", "prod"}
    uat, prod = environments["uat"], environments["prod"]
    assert uat.region == prod.region == "ap-south-1"
    assert uat.network.availability_zones == ("ap-south-1a", "ap-south-1b", "ap-south-1c")
    assert (uat.network.vpc_name, uat.network.cidr) == ("uat-vpc", "10.0.0.0/16")
    assert uat.network.nat_gateways is NatGateways.SINGLE
    assert prod.network.nat_gateways is NatGateways.ONE_PER_AZ
    assert not network(uat).network.overlaps(network(prod).network)
    assert uat.service.task_role_managed_policies == ("SecretsManagerReadWrite",
                                                      "AmazonS3FullAccess")
    assert prod.service.task_role_managed_policies == ()


def test_defaults_apply_to_keys_left_out(tmp_path):
    path = tmp_path / "dev.toml"
    path.write_text('region = "us-east-1"\n[state]\nbucket = "dev-state"\n'
                    '[network]\nvpc_name = "dev-vpc"\n'
                    'cidr = "10.9.0.0/16"\navailability_zones = ["us-east-1a", "us-east-1b"]\n')
    env = load_environment(path)
    assert env.name == "dev"
    assert env.service == ServiceConfig()
    assert env.service.log_retention_days is None  # unset: the props' default applies
    assert fargate_service(env).log_retention_days == 30
    assert network(env).nat_gateways is NatGateways.SINGLE
    assert env.state.region == "us-east-1" and env.state.lock_table is False
    assert network(env).public_subnet_cidr("us-east-1b") == "10.9.1.0/24"
    assert network(env).private_subnet_cidr("us-east-1a") == "10.9.3.0/24"


def test_subnet_cidrs_follow_the_az_letter_not_the_list_position():
    props = NetworkProps(vpc_name="x-vpc", cidr="10.0.0.0/16", region="eu-west-1",
                         availability_zones=("eu-west-1a", "eu-west-1c"))
    assert props.public_subnet_cidr("eu-west-1c") == "10.0.2.0/24"
    assert props.private_subnet_cidr("eu-west-1c") == "10.0.5.0/24"


def test_nat_zone_for_each_choice():
    zones = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
    single = NetworkProps(vpc_name="x-vpc", availability_zones=zones, region="eu-west-1")
    per_az = dataclasses.replace(single, nat_gateways=NatGateways.ONE_PER_AZ)
    assert [single.nat_zone_for(z) for z in zones] == ["eu-west-1a"] * 3
    assert [per_az.nat_zone_for(z) for z in zones] == list(zones)
    assert single.nat_zones == ("eu-west-1a",) and per_az.nat_zones == zones


def test_props_and_configs_built_in_code_are_checked_too(environments):
    with pytest.raises(PropError, match=r"^ScalingProps.min_capacity = 4: must not exceed "
                                        r"max_capacity=2"):
        ScalingProps(min_capacity=4, max_capacity=2)
    with pytest.raises(FieldError, match=r"^service.memory = 512: with cpu=1024"):
        check(with_service(environments["uat"], cpu=1024, memory=512))
    with pytest.raises(FieldError, match=r"^service.scaling.max_capacity = 0: must be between"):
        check(with_service(environments["uat"], scaling={"max_capacity": 0}))


def test_ecr_images_are_recognised():
    image = "123456789012.dkr.ecr.ap-south-1.amazonaws.com/hello/web:abc123"
    assert ServiceConfig(image=image).external_ecr_image == ("123456789012", "ap-south-1",
                                                         "hello/web")
    assert ServiceConfig().external_ecr_image is None


def test_select_environments(environments):
    loaded = list(environments.values())
    assert select_environments(loaded, None) == loaded
    assert [e.name for e in select_environments(loaded, "uat")] == ["uat"]
    with pytest.raises(ConfigError):
        select_environments(loaded, "qa")


def test_load_environments_reads_the_shipped_folder():
    assert [env.name for env in load_environments(ROOT / "environments")] == ["prod", "uat"]


SHARED = 'ecr_repository_owner = "uat"\n'


@pytest.mark.parametrize("uat, prod, message", [
    (UAT, edited(SHARED, "ecr_repository = true\n", PROD),
     "prod.toml: service.ecr_repository = true: repository 'hello-world/hello-world' in "
     "ap-south-1 is already created by uat.toml; share it with service.ecr_repository_owner = "
     '"uat" (and ecr_repository = false), or give this environment another service.name'),
    (UAT, edited(SHARED, 'ecr_repository_owner = "staging"\n', PROD),
     "prod.toml: service.ecr_repository_owner = 'staging': not another environment that "
     "creates a repository; allowed: uat"),
    (edited("ecr_repository = true\n", ""), PROD,
     "prod.toml: service.ecr_repository_owner = 'uat': uat.toml creates no repository; set "
     "service.ecr_repository = true there"),
    (UAT, edited("[service]\n", '[service]\nname = "web"\n', PROD),
     "prod.toml: service.ecr_repository_owner = 'uat': uat.toml creates "
     "'hello-world/hello-world' in ap-south-1, this environment would run "
     "'hello-world/web' in ap-south-1; use the same region, project and service.name"),
], ids=["two owners", "unknown owner", "owner without repository", "different names"])
def test_a_shared_repository_has_exactly_one_owner(tmp_path, uat, prod, message):
    result = run_main(tmp_path, {"uat.toml": uat, "prod.toml": prod})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"error: {tmp_path}/{message}\n"


def test_names_are_derived_once(environments):
    names = environments["prod"].names
    assert names == dataclasses.replace(
        names, service="hello-world-prod", log_group="/ecs/hello-world-prod",
        image_parameter="/hello-world/prod/hello-world/image",
        release_lock_parameter="/hello-world/prod/hello-world/release-lock",
        repository="hello-world/hello-world")
    public = dataclasses.replace(environments["uat"], service=dataclasses.replace(
        environments["uat"].service, ecr_repository=False))
    assert public.names.repository is None
