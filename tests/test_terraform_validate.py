"""Every synthesized stack is valid Terraform.

Offline here (`init -backend=false`, providers from the mirror), all stacks in one `terraform
validate` (helpers.validate_together), with a broken copy of one beside them to show that the
check finds an error and blames the right stack. This replaced cdktf's `to_be_valid_terraform`
(an `init` with the S3 backend and a `validate` per stack, 12 Terraform runs): the backends'
`init` is what every end-to-end apply starts with (test_down_e2e.py applies every uat and prod
stack), and the import blocks are planned there too.
"""

import json
import shutil

from helpers import synth_variant, validate_together, with_service

# prod (access logs on) with the longest service name the config allows (24 characters)
LONG_NAME = "payments-gateway-api-one"


def errors(diagnostics: list) -> list:
    return [f"{d['summary']}: {d.get('detail', '')}" for d in diagnostics
            if d["severity"] == "error"]


def test_every_stack_is_valid_terraform_and_a_broken_one_is_named(synthesized, environments,
                                                                   tmp_path):
    stack_dirs = sorted((synthesized.outdir / "stacks").iterdir())
    assert len(stack_dirs) == 6
    # A long name: its access-log bucket_prefix stays within the provider's limit.
    long_app = tmp_path / "long" / "app-prod-long-name"
    long_app.mkdir(parents=True)
    app = synth_variant(with_service(environments["prod"], name=LONG_NAME))["app-prod"]
    assert app["resource"]["aws_lb"]["load_balancer_alb"]["name"] == f"{LONG_NAME}-prod"
    (long_app / "cdk.tf.json").write_text(json.dumps(app))
    stack_dirs.append(long_app)
    # network-uat with an attribute the provider's schema does not have
    broken = tmp_path / "broken" / "network-uat-broken"
    shutil.copytree(synthesized.outdir / "stacks" / "network-uat", broken,
                    ignore=shutil.ignore_patterns(".terraform*"))
    config = json.loads((broken / "cdk.tf.json").read_text())
    config["resource"]["aws_vpc"]["network_vpc"]["no_such_attribute"] = True
    (broken / "cdk.tf.json").write_text(json.dumps(config))

    found = validate_together([*stack_dirs, broken], tmp_path / "validate")
    (error,) = found.pop(broken.name)
    assert error["summary"] == "Extraneous JSON object property"
    assert "no_such_attribute" in error["detail"]
    assert {name: errors(d) for name, d in found.items()} == {name: [] for name in found}
    assert sorted(found) == sorted(["", *(d.name for d in stack_dirs)])
