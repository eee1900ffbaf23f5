"""Small helpers shared by the tests."""

import json
import re
from pathlib import Path

from constructs_lib.json_document import decode as document  # noqa: F401 (tests read documents)


REGION = "ap-south-1"
# The xdist group of the modules that use conftest's `rolling` environment (a session fixture is
# per worker: they must run on the same one). Its last test destroys it (test_deploy_e2e.py).
ROLLING_GROUP = "rolling"


def ref(resource_type: str, name: str, attribute: str = "id") -> str:
    """The Terraform expression cdktf writes for a reference to another resource's attribute."""
    return "${%s.%s.%s}" % (resource_type, name, attribute)


def rules_of(rules: dict, security_group: str) -> list[dict]:
    """The security group rules (by resource name) that belong to `security_group`."""
    return [rule for rule in rules.values()
            if rule["security_group_id"] == ref("aws_security_group", security_group)]


def synth_variant(environment) -> dict:
    """Every stack of `environment` (a variant built in a test), synthesized: name -> JSON dict."""
    import json

    from cdktf import App, Testing

    from stacks import build

    stacks = build(Testing.stub_version(App(stack_traces=False)), [environment])
    return {name: json.loads(Testing.synth(stack)) for name, stack in stacks.items()}


def with_service(environment, **changes):
    """`environment` with its service settings changed (nested: alarms={...}, blue_green={...})."""
    import dataclasses

    service = environment.service
    for key, value in list(changes.items()):
        if isinstance(value, dict) and dataclasses.is_dataclass(getattr(service, key)):
            changes[key] = dataclasses.replace(getattr(service, key), **value)
    return dataclasses.replace(environment, service=dataclasses.replace(service, **changes))


def many_services(environment, count: int):
    """`environment` (several services, one named api) with `count` services: the API's
    settings again as svc0, svc1, ... on paths of their own."""
    import dataclasses

    services = dict(environment.services)
    for number in range(count - len(services)):
        key = f"svc{number}"
        services[key] = dataclasses.replace(environment.services["api"], name=key,
                                            path_patterns=[f"/{key}/*"])
    return dataclasses.replace(environment, services=services)


def aws(service: str):
    """A boto3 client of the session's emulator (conftest points AWS_ENDPOINT_URL at it)."""
    import boto3

    return boto3.client(service, region_name=REGION)


def uat_toml_named(prefix: str) -> str:
    """environments/uat.toml under names of `prefix` (project, service, state bucket, VPC), so a
    module that runs its commands as written can keep the stack names (`state-uat`, ...) without
    colliding with another module's uat in the same emulator."""
    uat = (Path(__file__).resolve().parent.parent / "environments" / "uat.toml").read_text()
    for old, new in [('bucket = "hello-world-uat-tfstate"', f'bucket = "{prefix}-tfstate"'),
                     ('vpc_name = "uat-vpc"', f'vpc_name = "{prefix}-vpc"'),
                     ('region = "ap-south-1"\n', f'region = "ap-south-1"\nproject = "{prefix}"\n'),
                     ("[service]\n", f'[service]\nname = "{prefix}"\n')]:
        assert old in uat, f"environments/uat.toml no longer has {old!r}"
        uat = uat.replace(old, new, 1)
    return uat


# Every cdktf command docs/delivery.md documents (test_deploy_e2e.py runs them as written).
DELIVERY_COMMANDS = re.findall(
    r"^\s*(npm run cdktf -- .+?)\s*$",
    (Path(__file__).resolve().parent.parent / "docs" / "delivery.md").read_text(), re.M)


def cdktf_cli(command: str, outdir, environments: str = "uat") -> str:
    """A documented `npm run cdktf -- ...` line run as written in the project folder (plus
    --auto-approve where it would ask, and --output `outdir`) for these environments, with the
    telemetry switch and Terraform's CLI config unset (the wrapper must set them); asserts it
    succeeded without the offline telemetry errors. Its output."""
    import os
    import shlex
    import subprocess

    root = Path(__file__).resolve().parent.parent
    env = {key: value for key, value in os.environ.items()
           if key not in ("CHECKPOINT_DISABLE", "TF_CLI_CONFIG_FILE")}
    env.update(ENVIRONMENTS=environments, PIPENV_VENV_IN_PROJECT="1", PIPENV_VERBOSITY="-1",
               CI="1")
    extra = ["--output", str(outdir)]
    if command.split()[4] in ("deploy", "destroy"):
        extra.append("--auto-approve")
    result = subprocess.run(shlex.split(command) + extra, cwd=root, env=env,
                            capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "ENOTFOUND" not in output and "[ERROR]" not in output, output
    return output


def deployable(environment, outdir):
    """`environment`'s stacks synthesized into `outdir` (as main.py does), and its Runner
    against the session's emulator. A state stack's local bootstrap state lands three folders
    up from its stack folder: in outdir's parent."""
    import os

    import main
    from ops.core.runner import Runner

    main.synth([environment], str(outdir))
    return Runner(environment, dict(os.environ), Path(outdir))


def resource_count(deployment, stack) -> int:
    """How many resources `stack` of `deployment` declares, from its synthesized JSON."""
    import json

    synthesized = json.loads((deployment.stack_dir(stack) / "cdk.tf.json").read_text())
    return sum(len(group) for group in synthesized.get("resource", {}).values())


def tf(deployment, stack, *args, check=True):
    """`terraform <args>` in the stack's folder; with check, assert it succeeded."""
    result = deployment.terraform(stack, *args)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


# Terraform's warning for a child module's backend block, which validate_together causes.
CHILD_BACKEND = "Backend configuration ignored"


def validate_together(stack_dirs, folder) -> dict:
    """`terraform validate -json` of every stack folder in one run: a root module in `folder` (a
    new folder) calls each stack as a child module, so the AWS provider starts and loads its
    ~1,500 schemas once, not once per stack (bench/README.md "Test speed"). Returns stack name
    -> its diagnostics (by the file each points at), without the CHILD_BACKEND warnings;
    diagnostics of no stack's file go under ""."""
    import os

    from ops.core.terraform import terraform

    folder.mkdir()
    sources, imports = {}, []
    for stack_dir in stack_dirs:
        # Import blocks are for root modules only: the copy's go to the root, each with its
        # target in the module (whose existence validate checks; their conditions are planned
        # by the end-to-end tests).
        copy = folder / "stacks" / stack_dir.name
        copy.mkdir(parents=True)
        if (stack_dir / "cdk.tf.json").is_file():
            config = json.loads((stack_dir / "cdk.tf.json").read_text())
            targets = [block["to"] for block in config.pop("import", [])]
            (copy / "cdk.tf.json").write_text(json.dumps(config))
        else:  # the HCL export
            hcl = (stack_dir / "cdk.tf").read_text()
            blocks = re.findall(r"^import \{\n.*?^\}\n?", hcl, re.M | re.S)
            targets = [re.search(r"^\s*to\s*=\s*(\S+)", block, re.M).group(1)
                       for block in blocks]
            for block in blocks:
                hcl = hcl.replace(block, "")
            (copy / "cdk.tf").write_text(hcl)
        imports += [{"to": f"module.{stack_dir.name}.{to}", "id": "validate"} for to in targets]
        sources[stack_dir.name] = f"./stacks/{stack_dir.name}"
    (folder / "main.tf.json").write_text(json.dumps({"module": {
        name: {"source": source} for name, source in sources.items()},
        **({"import": imports} if imports else {})}))
    terraform(folder, "init", "-backend=false", "-input=false", "-no-color")
    report = json.loads(terraform(folder, "validate", "-json", check=False).stdout)
    found = {name: [] for name in [*sources, ""]}
    for diagnostic in report["diagnostics"]:
        if diagnostic["summary"] == CHILD_BACKEND:
            continue
        file = os.path.normpath(folder / diagnostic.get("range", {}).get("filename", "-"))
        owners = [name for name, source in sources.items()
                  if file.startswith(os.path.normpath(folder / source) + os.sep)]
        found[owners[0] if owners else ""].append(diagnostic)
    return found
