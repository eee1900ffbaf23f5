"""Unpack hashicorp/aws once into terraform/providers/ (unless a mirror is already there)."""

ENV, TARGET, OUT = None, False, None


def run(args):
    import subprocess

    from ops.errors import Failed
    from ops.terraform import fill_project_mirror

    try:
        fill_project_mirror()
    except (subprocess.CalledProcessError, OSError) as error:
        raise Failed(str(error)) from None
