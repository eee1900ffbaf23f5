"""constructs_lib/json_document.py: JSON documents as Terraform `jsonencode` expressions, with
every literal kept exactly (checked by Terraform itself) and every reference a reference."""

import json
import shutil
import subprocess

import pytest
from cdktf import Testing, TerraformStack
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket

from constructs_lib.iam import policy_document
from constructs_lib.json_document import json_document
from helpers import document

AWKWARD = {
    "quotes": 'say "hi"', "backslash": "C:\\dir\\", "template": "${not_a_reference}",
    "directive": "%{ if x }", "escaped": "$${x} %%{y}", "lines": "one\ntwo\r\n\tthree",
    "control": "bell\x07", "unicode": "caf\u00e9 \u2713 \U0001F680", "empty": "",
    "numbers": [0, -1, 8000, 1.5, 1e-3], "flags": [True, False], "nested": {"list": [[], {}]},
}


def _synthesized(**documents) -> dict:
    stack = TerraformStack(Testing.app(), "documents")
    for name, value in documents.items():
        IamRolePolicy(stack, name, role="role", policy=value)
    return {name: policy["policy"] for name, policy in
            json.loads(Testing.synth(stack))["resource"]["aws_iam_role_policy"].items()}


def test_literals_come_out_of_terraform_exactly_as_written(tmp_path):
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not on PATH")
    attribute = _synthesized(awkward=json_document(AWKWARD))["awkward"]
    assert attribute.startswith("${jsonencode(") and attribute.endswith(")}")
    result = subprocess.run([terraform, "console"], input=attribute[2:-1], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(json.loads(result.stdout)) == AWKWARD


def test_references_stay_references():
    stack = TerraformStack(Testing.app(), "documents")
    bucket = S3Bucket(stack, "bucket", bucket="b")
    IamRolePolicy(stack, "policy", role="role", policy=policy_document([{
        "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": [bucket.arn, f"{bucket.arn}/*", f'arn:"{bucket.bucket}"']}]))
    attribute = json.loads(Testing.synth(stack))["resource"]["aws_iam_role_policy"]["policy"][
        "policy"]
    assert "[aws_s3_bucket.bucket.arn, " in attribute  # a bare reference, not a string
    assert document(attribute) == {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": ["${aws_s3_bucket.bucket.arn}", "${aws_s3_bucket.bucket.arn}/*",
                     'arn:"${aws_s3_bucket.bucket.bucket}"']}]}


@pytest.mark.parametrize("key", ['a"b', "a\\b", "${x}", "tab\t"])
def test_keys_must_be_plain(key):
    with pytest.raises(ValueError, match="use a plain string"):
        json_document({key: 1})


def test_values_must_be_json():
    with pytest.raises(TypeError, match="use dicts, lists, strings, numbers or booleans"):
        json_document({"a": None})


def test_no_stack_holds_a_json_string(synthesized):
    """Every JSON document of every stack is a jsonencode expression: a document dumped to a
    string in Python breaks in the HCL export as soon as it holds a reference."""
    def strings(value, key=None):  # (attribute name, string value) pairs
        if isinstance(value, dict):
            for name, item in value.items():
                yield from strings(item, name)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item, key)
        elif isinstance(value, str):
            yield key, value

    found, documents = [], set()
    for stack in synthesized.json:
        for key, value in strings(synthesized.parsed(stack).get("resource", {})):
            if value.startswith("${jsonencode("):
                documents.add(key)
            try:
                parsed = json.loads(value)
            except ValueError:
                continue
            if isinstance(parsed, (dict, list)):
                found.append(f"{stack} {key}: {value[:60]}")
    assert found == []
    assert documents == {"policy", "assume_role_policy", "container_definitions",
                         "dashboard_body"}
