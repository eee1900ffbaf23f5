"""EC2: DescribeSecurityGroupRules lost the description of a rule that references a security
group (aws_vpc_security_group_ingress/egress_rule with referenced_security_group_id: a plan
diff). The patch reads it from the referenced group's entry too."""

from __future__ import annotations


def describe_referenced_group_rule_descriptions() -> None:
    from moto.ec2.models.security_groups import SecurityGroupRule

    def description(self) -> str | None:
        return self.ip_range.get("Description") or self.source_group.get("Description")

    # aws_vpc_security_group_ingress/egress_rule read (DescribeSecurityGroupRules): moto looked for
    # the description of a rule with referenced_security_group_id only among CIDR ranges.
    SecurityGroupRule.description = property(description)
