"""Check that the environment's load balancer answers with the app (or check --url)."""

from ops.cli import ONE
from ops.commands import environment, focused, say, terraform_env

ENV, TARGET, OUT = ONE, True, None
SERVICE = True


def arguments(parser):
    from ops.smoke import HELLO

    parser.add_argument("--url", help="check this URL instead of app-<env>'s alb_url output "
                        "(https environments: https://<service.domain_name>/)")
    parser.add_argument("--address", help="for an https URL whose host does not resolve: "
                        "connect here, with the host as SNI and Host (default with --env: the "
                        "ALB's DNS name)")
    parser.add_argument("--expect", default=HELLO, help=f"text the body must contain "
                        f"(default {HELLO!r})")
    parser.add_argument("--attempts", type=int, default=10)
    parser.add_argument("--interval", type=float, default=6, help="seconds between attempts")
    parser.add_argument("--timeout", type=float, default=5, help="seconds per request")


def run(args):
    from config import outputs
    from ops import smoke
    from ops.core.runner import Runner, TerraformError
    from ops.errors import BadInput, Failed

    if not 1 <= args.attempts <= 100 or not 0 < args.timeout <= 60 or args.interval < 0:
        raise BadInput(f"--attempts {args.attempts} --timeout {args.timeout} --interval "
                       f"{args.interval}: allowed 1-100 attempts, a timeout of 0-60 s and an "
                       "interval of 0 s or more")
    url, address = args.url, args.address
    if not url:
        found = environment(args)
        if found.several and not args.service:  # the default service, else the first routed
            from stacks.props import default_service, routed_services
            args.service = (default_service(found) or (routed_services(found) or [found])[0]
                            ).service_key
        found = focused(args, found)
        if not found.service.load_balanced:
            raise BadInput(f"--service {found.service_key}: a worker, behind no load "
                           "balancer: nothing to check")
        app = found.stack_names["app"]
        try:
            applied = Runner(found, terraform_env(args, found)).outputs(app)
        except TerraformError as error:  # not deployed: nothing to check yet
            raise BadInput(str(error)) from None
        url, alb = smoke.smoke_target(found.service, applied)
        address = address or alb
        if not url:
            raise BadInput(f"{app} has no {outputs.ALB_URL} output; apply it first")
    if not url.startswith(("http://", "https://")):
        raise BadInput(f"--url {url}: expected an http:// or https:// URL")
    failure = smoke.check(url, args.expect, args.attempts, args.interval, args.timeout,
                          progress=say, address=address)
    if failure:
        raise Failed(f"smoke check failed: {url}: {failure} after {args.attempts} attempts")
