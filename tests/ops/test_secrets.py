"""Secrets by reference (constructs_lib/secret_reference.py, ops/secrets.py) against the emulator:
references parse or are refused with what is allowed; `set` writes a new version without ever
printing the value; `list` shows names and when each changed, never a value."""

import io
import uuid

import pytest

from constructs_lib.secret_reference import parse
from ops.errors import BadInput
from ops.secrets import listing, read_value, set_value

ACCOUNT = "123456789012"
SECRET = f"arn:aws:secretsmanager:ap-south-1:{ACCOUNT}:secret:uat/api-AbC123"


@pytest.mark.parametrize("text, store, name, region, key", [
    ("/uat/db-password", "ssm", "/uat/db-password", "", ""),
    ("uat.db", "ssm", "/uat.db", "", ""),
    (f"arn:aws:ssm:ap-south-1:{ACCOUNT}:parameter/uat/db", "ssm", "/uat/db", "ap-south-1", ""),
    (SECRET, "secretsmanager", SECRET, "ap-south-1", ""),
    (f"{SECRET}:token::", "secretsmanager", SECRET, "ap-south-1", "token"),
])
def test_references_parse(text, store, name, region, key):
    reference = parse(text)
    assert (reference.store, reference.name, reference.region, reference.json_key) == \
        (store, name, region, key)


@pytest.mark.parametrize("text", [
    "", "arn:aws:secretsmanager:ap-south-1:123:secret:x-AbC123",
    f"arn:aws:secretsmanager:ap-south-1:{ACCOUNT}:secret:nosuffix",
    "arn:aws:s3:::bucket", "has space", "/trailing/"])
def test_malformed_references_say_what_is_allowed(text):
    with pytest.raises(ValueError, match="is not an SSM parameter .* or a Secrets Manager"):
        parse(text)


def test_the_iam_resource_of_a_reference():
    assert (parse("/uat/db").iam_resource("aws", "ap-south-1", "123456789012")
            == "arn:aws:ssm:ap-south-1:123456789012:parameter/uat/db")
    assert parse(f"{SECRET}:token::").iam_resource("aws", "eu-west-1", "1") == SECRET


class Typed(io.StringIO):
    def isatty(self):
        return True


def test_the_value_comes_from_a_pipe_or_a_hidden_prompt():
    assert read_value(io.StringIO("s3cret\n")) == "s3cret"
    assert read_value(io.StringIO("two\nlines\n")) == "two\nlines"
    assert read_value(Typed(), prompt=lambda text: "typed") == "typed"
    with pytest.raises(BadInput, match="the value is empty"):
        read_value(io.StringIO(""))


def test_set_and_list_never_show_the_value(admin_client):
    ssm, manager = admin_client("ssm"), admin_client("secretsmanager")
    run = uuid.uuid4().hex[:6]  # the emulator's state outlives this module
    password, gone = f"/{run}/db-password", f"/{run}/gone"
    arn = manager.create_secret(Name=f"{run}/token", SecretString="first")["ARN"]
    said = [set_value(ssm, manager, parse(password), "s3cret-1"),
            set_value(ssm, manager, parse(password), "s3cret-2"),
            set_value(ssm, manager, parse(arn), "t0ken")]
    parameter = ssm.get_parameter(Name=password, WithDecryption=True)["Parameter"]
    assert (parameter["Type"], parameter["Value"], parameter["Version"]) == \
        ("SecureString", "s3cret-2", 2)
    assert manager.get_secret_value(SecretId=arn)["SecretString"] == "t0ken"
    rows = listing(ssm, manager, {"DB_PASSWORD": password, "TOKEN": arn, "GONE": gone})
    assert [(name, when == "missing") for name, _, when in rows] == \
        [("DB_PASSWORD", False), ("GONE", True), ("TOKEN", False)]
    shown = " ".join(said) + " ".join(" ".join(row) for row in rows)
    assert "s3cret" not in shown and "t0ken" not in shown


def test_set_keeps_a_parameters_customer_managed_key(admin_client):
    # PutParameter without KeyId re-encrypts with alias/aws/ssm (AWS and the emulator alike).
    ssm, manager = admin_client("ssm"), admin_client("secretsmanager")
    run = uuid.uuid4().hex[:6]
    kms = admin_client("kms")
    own, configured = (kms.create_key()["KeyMetadata"]["Arn"] for _ in range(2))
    existing, new = f"/{run}/existing", f"/{run}/new"
    ssm.put_parameter(Name=existing, Value="v0", Type="SecureString", KeyId=own)

    def key(name):
        (found,) = ssm.describe_parameters(ParameterFilters=[
            {"Key": "Name", "Option": "Equals", "Values": [name]}])["Parameters"]
        return found["KeyId"]

    assert set_value(ssm, manager, parse(existing), "v1", (configured,)) == \
        f"{existing}: new version written (SSM SecureString, key {own})"
    assert key(existing) == own
    set_value(ssm, manager, parse(new), "v1", (configured,))  # a new one: the service's key
    assert key(new) == configured
    set_value(ssm, manager, parse(f"/{run}/plain"), "v1")
    assert key(f"/{run}/plain") == "alias/aws/ssm"


def test_set_refuses_a_missing_secret_or_a_json_key(admin_client):
    ssm, manager = admin_client("ssm"), admin_client("secretsmanager")
    missing = f"arn:aws:secretsmanager:ap-south-1:{ACCOUNT}:secret:uat/none-XyZ789"
    with pytest.raises(BadInput, match="no secret .*: create it first"):
        set_value(ssm, manager, parse(missing), "x")
    with pytest.raises(BadInput, match="referenced by its JSON key 'token'"):
        set_value(ssm, manager, parse(f"{SECRET}:token::"), "x")
