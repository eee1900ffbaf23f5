"""Small helpers shared by the tests."""


def ref(resource_type: str, name: str, attribute: str = "id") -> str:
    """The Terraform expression cdktf writes for a reference to another resource's attribute."""
    return "${%s.%s.%s}" % (resource_type, name, attribute)


def rules_of(rules: dict, security_group: str) -> list[dict]:
    """The security group rules (by resource name) that belong to `security_group`."""
    return [rule for rule in rules.values()
            if rule["security_group_id"] == ref("aws_security_group", security_group)]
