"""The cost of the emulator's IAM enforcement (ops/emulator/iam/) per request.

    .venv/bin/python bench/emulator_iam.py [--requests 200]

Starts Emulator(enforce_iam=True) in this process, makes a role with ReadOnlyAccess attached
(the largest policy the CI roles carry), and times ECS DescribeClusters: as the administrator
(never evaluated), as the role asking the same again (a cached verdict), and as the role asking
about a new cluster each time (one evaluation by the node process). Prints ms per request.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3  # noqa: E402

from ops.emulator.server import Emulator  # noqa: E402

REGION, ACCOUNT = "ap-south-1", "123456789012"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    count = parser.parse_args().requests
    with Emulator(port=0, enforce_iam=True) as emulator:
        def client(service, **keys):
            keys = keys or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
            return boto3.client(service, region_name=REGION, endpoint_url=emulator.endpoint_url,
                                **keys)

        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sts:AssumeRole"}]}
        client("iam").create_role(RoleName="bench", AssumeRolePolicyDocument=json.dumps(trust))
        client("iam").attach_role_policy(RoleName="bench",
                                         PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
        credentials = client("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/bench",
                                                RoleSessionName="bench")["Credentials"]
        admin = client("ecs")
        role = client("ecs", aws_access_key_id=credentials["AccessKeyId"],
                      aws_secret_access_key=credentials["SecretAccessKey"],
                      aws_session_token=credentials["SessionToken"])
        admin.create_cluster(clusterName="bench")
        for ecs in (admin, role):
            ecs.describe_clusters(clusters=["bench"])  # warm up: connections, first verdict
        runs = (("administrator (not evaluated)", admin, lambda i: "bench"),
                ("role, same request (cached verdict)", role, lambda i: "bench"),
                ("role, a new cluster each time (evaluated)", role, lambda i: f"c{i}"))
        for label, ecs, cluster in runs:
            started = time.perf_counter()
            for i in range(count):
                ecs.describe_clusters(clusters=[cluster(i)])
            print(f"{label}: {(time.perf_counter() - started) * 1000 / count:.1f} ms/request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
