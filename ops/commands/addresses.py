"""List a synthesized stack's Terraform addresses by construct path (for moved blocks)."""

from ops.commands import add_stacks, stacks_dir

ENV, TARGET, OUT = None, False, None


def arguments(parser):
    parser.add_argument("stack")
    add_stacks(parser, synthesizes=False)
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args):
    import json

    from ops import addresses

    found = addresses.stack_addresses(args.stack, stacks_dir(args))
    if args.json:
        print(json.dumps(found, indent=2))
        return
    width = max(map(len, found), default=0)
    for path, address in found.items():
        print(f"{path:<{width}}  {address}")
