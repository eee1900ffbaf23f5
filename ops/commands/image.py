"""Build app/, push it to the environment's ECR repository tagged with the commit, print it."""

from ops.cli import ONE
from ops.commands import environment, focused, select

ENV, TARGET, OUT = ONE, True, None
SERVICE = True


def arguments(parser):
    parser.add_argument("--tag", help="default: the current git commit (12 characters)")
    parser.add_argument("--context", help="docker build context (default: the service's "
                        "build_context, app/)")
    parser.add_argument("--every-service", action="store_true",
                        help="each service with a repository, in the file's order")
    parser.add_argument("--account", help="AWS account id (default: from STS)")
    parser.add_argument("--dry-run", action="store_true")


def run(args):
    import subprocess

    from ops import image
    from ops.aws import target_environment
    from ops.errors import BadInput
    from ops.core import ROOT

    if args.every_service and (args.service or args.context):
        raise BadInput("--every-service builds each service from its build_context: leave "
                       "out --service and --context")
    try:
        tag = args.tag or image.git_commit()
    except (OSError, subprocess.CalledProcessError) as error:
        raise BadInput(f"cannot read the git commit ({error}); pass --tag") from None
    every = environment(args).each_service() if args.every_service else [
        focused(args, environment(args))]
    for found in every:
        if found.names.repository is None and args.every_service:
            continue  # a public image: nothing to build
        owner, = select(found.service.ecr_repository_owner or found.name)
        owner = owner.focus(found.service_key) if owner.several else owner
        digest = image.push(found, tag=tag, context=args.context or str(
            ROOT / found.service.build_context), dry_run=args.dry_run,
            env=target_environment(args.target, found.region), account=args.account,
            owner=owner)
        print(f"image: {found.names.repository}:{tag}")
        print(f"digest: {digest or '(known after the push)'}")
        flags = f"--env {found.name}" + (f" --service {found.service_key}" if found.several
                                         else "")
        print(f"release it: python -m ops release {flags} --version {tag}")
