"""Every synthesized stack is valid Terraform.

Offline here (`init -backend=false`, providers from the mirror); the end-to-end tier also runs
cdktf's `to_be_valid_terraform`, whose plain `init` needs the S3 backend's bucket to exist.
"""

from concurrent.futures import ThreadPoolExecutor

from ops.terraform import terraform


def validate(stack_dir) -> str:
    terraform(stack_dir, "init", "-backend=false", "-input=false", "-no-color")
    result = terraform(stack_dir, "validate", "-no-color", check=False)
    return result.stdout + result.stderr if result.returncode else ""


def test_every_stack_is_valid_terraform(synthesized):
    stack_dirs = sorted((synthesized.outdir / "stacks").iterdir())
    assert len(stack_dirs) == 6
    with ThreadPoolExecutor(max_workers=3) as pool:
        problems = dict(zip((d.name for d in stack_dirs), pool.map(validate, stack_dirs)))
    assert problems == {name: "" for name in problems}
