"""Release a version (an image tag or sha256:<digest> already in ECR) to an environment."""

from ops import commands
from ops.cli import ONE
from ops.commands import add_every_service, add_timing, env_name, every_service, on_aws

ENV, TARGET, OUT = ONE, True, None
SERVICE = True


def arguments(parser):
    parser.add_argument("--version", required=True,
                        help="an image tag (the git commit) or sha256:<digest>")
    add_every_service(parser)
    add_timing(parser)


def run(args):
    from ops import release
    from ops.errors import BadInput

    if not (release.TAG.match(args.version) or release.DIGEST.match(args.version)):
        raise BadInput(f"--version {args.version!r}: not an image tag or "
                       "sha256:<64 hex digits>")
    with on_aws(args):
        if every_service(args):
            targets = commands.release_targets(args, env_name(args), every_service=True)
            print(release.each_service(targets, lambda target: release.deploy_changed(
                target, args.version, timeout=args.timeout, poll=args.poll)))
            return
        (target,) = commands.release_targets(args, env_name(args))
        print(release.deploy(target, args.version, timeout=args.timeout, poll=args.poll))
