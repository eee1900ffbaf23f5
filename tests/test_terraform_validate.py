"""Every synthesized stack is valid Terraform (init + validate, offline through the mirror)."""

from cdktf import Testing


def test_every_stack_is_valid_terraform(synthesized):
    assert Testing.to_be_valid_terraform(str(synthesized.outdir))
