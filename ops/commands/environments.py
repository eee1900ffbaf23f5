"""List the environments in deploy order, or as the workflows' matrix (--github-output)."""

from pathlib import Path

ENV, TARGET, OUT = None, False, None


def arguments(parser):
    parser.add_argument("--environments-dir", type=Path, metavar="DIR",
                        help="the environment files' folder (default: $ENVIRONMENTS_DIR, "
                        "else environments/)")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="the matrix as one JSON line")
    shown.add_argument("--github-output", action="store_true",
                       help="append matrix= and first= to the file $GITHUB_OUTPUT names")


def run(args):
    import json

    from config import environments_dir
    from ops.commands import github_output
    from ops.environments import matrix

    found = matrix(args.environments_dir or environments_dir())
    if args.json or args.github_output:
        lines = [f"matrix={json.dumps(found, separators=(',', ':'))}",
                 f"first={found['include'][0]['name']}"]
        if args.github_output:
            with github_output().open("a") as output:
                output.write("\n".join(lines) + "\n")
        print(lines[0].removeprefix("matrix=") if args.json else "\n".join(lines))
        return
    for entry in found["include"]:
        source = (f"promoted from {entry['promote_from']}" if entry["promote_from"]
                  else "new build")
        print(f"{entry['name']:<16} {entry['region']:<16} {source}")
