"""Write a secret of the service from stdin (set NAME), or list them and when each changed."""

from ops.cli import ONE
from ops.commands import ServiceTarget, on_aws, say

ENV, TARGET, OUT = ONE, True, None
SERVICE = True


def arguments(parser):
    parser.add_argument("action", choices=("set", "list"),
                        help="set NAME: write its value, read from stdin (piped, or typed at a "
                        "hidden prompt); list: each name, reference and last change, no value")
    parser.add_argument("name", nargs="?", metavar="NAME",
                        help="with set: a container variable of the service's secrets")


def run(args):
    from ops.errors import BadInput

    if (args.action == "set") != (args.name is not None):
        raise BadInput(f"{args.command} {args.action}: " +
                       ("name the secret (secrets set NAME)" if args.action == "set" else
                        f"takes no NAME ({args.name})"))
    target = ServiceTarget(args)
    configured = dict(target.environment.service.secrets or {})
    if not configured:
        where = target.environment.config_path("service.secrets").rsplit(".", 1)[0]
        raise BadInput(f"{target.environment.name}'s service has no secrets: add "
                       "secrets = { NAME = \"<SSM parameter or Secrets Manager ARN>\" } to its "
                       f"[{where}]")
    with on_aws(args):
        if args.action == "list":
            show(target, configured)
        else:
            write(target, configured, args.name)


def show(target, configured):
    from ops.secrets import listing

    rows = listing(target.client("ssm"), target.client("secretsmanager"), configured)
    width = max(len(name) for name, _, _ in rows)
    reference = max(len(text) for _, text, _ in rows)
    for name, text, when in rows:
        say(f"{name:<{width}}  {text:<{reference}}  {when}")


def write(target, configured, name):
    import sys

    from constructs_lib.secret_reference import parse
    from ops.errors import BadInput
    from ops.secrets import read_value, set_value

    if name not in configured:
        raise BadInput(f"{name}: not a secret of {target.service.name}; its secrets: "
                       f"{', '.join(sorted(configured))}")
    reference = parse(configured[name])  # checked when the environment loaded
    value = read_value(sys.stdin)  # never echoed or printed
    say(set_value(target.client("ssm"), target.client("secretsmanager"), reference, value,
                  tuple(target.environment.service.secrets_kms_key_arns or ())))
