"""Export every stack as plain Terraform HCL (the way to leave CDKTF: docs/cdktf-sunset.md)."""

from ops.cli import MANY

ENV, TARGET, OUT = MANY, False, "where stacks/<stack>/cdk.tf go (default hcl/)"


def run(args):
    import os

    from ops import export_hcl
    from ops.errors import BadInput, Failed

    # main.py, which export_hcl runs in a process of its own, reads the environments from here.
    env = dict(os.environ, **({"ENVIRONMENTS": args.env} if args.env else {}))
    out = args.out or export_hcl.DEFAULT_OUT
    result = export_hcl.export(out, env)
    if result.returncode:
        message = result.stderr.strip().removeprefix("error: ")
        raise (BadInput if result.returncode == BadInput.exit_code else Failed)(message)
    for name, path in sorted(export_hcl.stack_files(out).items()):
        print(f"{name}: {os.path.relpath(path)}")
