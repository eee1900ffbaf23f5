"""Architecture pictures, one per environment, drawn from its config.

    python -m ops.diagram [--env uat[,prod]] [--outdir docs] [--format png,svg]

`architecture(env)` builds the picture as plain data (clusters, nodes, edges) straight from
`environments/<env>.toml`: the VPC and its CIDR, per AZ the public and private subnets, the
internet gateway, the NAT gateway(s) and which private subnet routes through which (a route to
another AZ's NAT is a red dashed "cross-AZ" edge), the ALB, the ECS service with its task size
and task counts, its logs, and ECR, VPC endpoints, flow logs and alarms when the config has them.
Tests check that data; `render()` draws it with the `diagrams` library (which needs Graphviz's
`dot`) into `docs/architecture-<env>.png` and `.svg`. The SVG embeds its icons, so it displays
anywhere, not only on the machine that drew it.
"""

from __future__ import annotations

import argparse
import base64
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from constructs_lib.config import ConfigError, EnvironmentConfig, load_environments, \
    select_environments
from constructs_lib.config import ALARM_NAMES, INTERFACE_ENDPOINT_SERVICES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

CROSS_AZ = "cross_az"  # the style of an edge from a private subnet to another AZ's NAT


@dataclass(frozen=True)
class Cluster:
    id: str
    label: str
    parent: str | None = None  # the enclosing cluster's id; None for top level


@dataclass(frozen=True)
class Node:
    id: str
    kind: str  # what icon: "vpc", "igw", "nat", "alb", "fargate", "ecs", "logs", ...
    label: str
    cluster: str | None = None


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""
    style: str = "normal"  # "normal", CROSS_AZ, or "dotted" (control plane: logs, image pulls)
    upward: bool = False  # drawn bottom to top (traffic leaving the VPC), for the layout only


@dataclass
class Graph:
    name: str
    clusters: list[Cluster] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def node(self, id: str) -> Node:
        return next(node for node in self.nodes if node.id == id)

    def of_kind(self, kind: str) -> list[Node]:
        return [node for node in self.nodes if node.kind == kind]

    def edges_styled(self, style: str) -> list[Edge]:
        return [edge for edge in self.edges if edge.style == style]

    def cluster(self, id: str) -> Cluster:
        return next(cluster for cluster in self.clusters if cluster.id == id)


def _gib(memory_mib: int) -> str:
    return f"{memory_mib / 1024:g} GB"


def architecture(env: EnvironmentConfig) -> Graph:
    """The environment's picture as data; every label comes from the config."""
    network, service = env.network, env.service
    name = f"{service.name}-{env.name}"
    graph = Graph(f"{env.name}: {name} in {env.region}")
    add_cluster = graph.clusters.append
    add, connect = graph.nodes.append, graph.edges.append

    add_cluster(Cluster("region", f"AWS {env.region}"))
    add_cluster(Cluster("vpc", f"VPC {network.vpc_name}  {network.cidr}", "region"))
    add(Node("internet", "internet", "internet"))
    add(Node("igw", "igw", "internet gateway", "vpc"))
    listener = "HTTPS :443" if service.https else f"HTTP :{service.listener_port}"
    add(Node("alb", "alb", f"ALB {name}\ninternet-facing, {listener}\n"
                           f"in the public subnets of {len(network.availability_zones)} AZs", "vpc"))
    connect(Edge("internet", "igw", listener))
    connect(Edge("igw", "alb", listener))

    for zone in network.availability_zones:
        add_cluster(Cluster(f"az:{zone}", zone, "vpc"))
        add_cluster(Cluster(f"public:{zone}", f"public {network.public_subnet_cidr(zone)}",
                            f"az:{zone}"))
        add_cluster(Cluster(f"private:{zone}", f"private {network.private_subnet_cidr(zone)}",
                            f"az:{zone}"))
        if zone in network.nat_zones:
            add(Node(f"nat:{zone}", "nat", f"NAT gateway {zone[-1]}\n+ Elastic IP",
                     f"public:{zone}"))
            connect(Edge(f"nat:{zone}", "igw", "0.0.0.0/0", upward=True))
        # The ALB has a node with a public IPv4 in every AZ's public subnet.
        add(Node(f"alb:{zone}", "alb_node", f"ALB node {zone[-1]}\npublic IPv4",
                 f"public:{zone}"))
        connect(Edge("alb", f"alb:{zone}"))
        add(Node(f"tasks:{zone}", "fargate", f"Fargate tasks {zone[-1]}", f"private:{zone}"))
        connect(Edge(f"alb:{zone}", f"tasks:{zone}", f"HTTP :{service.container_port}"))

    for zone in network.availability_zones:
        nat_zone = network.nat_zone_for(zone)
        crossing = nat_zone != zone
        connect(Edge(f"tasks:{zone}", f"nat:{nat_zone}",
                     "cross-AZ" if crossing else "0.0.0.0/0", CROSS_AZ if crossing else "normal",
                     upward=True))

    scaling = service.scaling
    strategy = ("blue/green (CodeDeploy)"
                if service.blue_green.enabled
                else "rolling deploys")
    add(Node("service", "ecs", f"ECS service {name}\n{service.cpu / 1024:g} vCPU / "
                               f"{_gib(service.memory)} per task\n{scaling.min_capacity}-"
                               f"{scaling.max_capacity} tasks, CPU target "
                               f"{scaling.cpu_target_percent:g}%\n{strategy}", "region"))
    for zone in network.availability_zones:
        connect(Edge("service", f"tasks:{zone}", style="dotted"))
    add(Node("logs", "logs", f"CloudWatch Logs\n/ecs/{name}\n{service.log_retention_days} days",
             "region"))
    connect(Edge("service", "logs", "container logs", "dotted"))

    repository = (env.names.repository
                  or (service.external_ecr_image or (None, None, None))[2])
    if repository:
        add(Node("image", "ecr", f"ECR {repository}", "region"))
    else:
        add(Node("image", "registry", f"public image\n{service.image}"))
    connect(Edge("image", "service", "image pull", "dotted"))

    endpoints = ("s3", *INTERFACE_ENDPOINT_SERVICES) if network.vpc_endpoints else ()
    if endpoints:
        rows = [", ".join(endpoints[i:i + 3]) for i in range(0, len(endpoints), 3)]
        add(Node("endpoints", "endpoint", "\n".join(["VPC endpoints", *rows]), "vpc"))
        connect(Edge("service", "endpoints", "AWS APIs, no NAT", "dotted"))
    if network.flow_logs:
        add(Node("flow_logs", "flow_logs",
                 f"VPC flow logs\n{network.flow_logs_retention_days} days", "region"))
        connect(Edge("igw", "flow_logs", "all traffic", "dotted"))
    add(Node("alarms", "alarms", f"CloudWatch alarms\n{len(ALARM_NAMES)}", "region"))
    connect(Edge("service", "alarms", "metrics", "dotted"))
    return graph


# ---------------------------------------------------------------------------------------------
# Drawing, with the `diagrams` library (imported only here: it needs Graphviz to render).


def _icons() -> dict:
    from diagrams.aws.compute import ECR, ECS, Fargate
    from diagrams.aws.management import Cloudwatch, CloudwatchAlarm, CloudwatchLogs
    from diagrams.aws.network import (ALB, Endpoint, InternetGateway, NATGateway,
                                      VPCElasticNetworkInterface, VPCFlowLogs)
    from diagrams.onprem.container import Docker
    from diagrams.onprem.network import Internet
    return {"internet": Internet, "igw": InternetGateway, "nat": NATGateway, "alb": ALB,
            "alb_node": VPCElasticNetworkInterface,
            "fargate": Fargate, "ecs": ECS, "logs": CloudwatchLogs, "ecr": ECR,
            "registry": Docker, "endpoint": Endpoint, "flow_logs": VPCFlowLogs,
            "alarms": CloudwatchAlarm, "default": Cloudwatch}


EDGE_STYLES = {
    "normal": {},
    CROSS_AZ: {"color": "red", "style": "dashed", "fontcolor": "red", "penwidth": "2"},
    "dotted": {"color": "gray40", "style": "dotted"},
}


def _inline_images(svg_path: Path) -> None:
    """Replace the SVG's links to icon files on this machine by data: URIs."""
    def embed(match: re.Match) -> str:
        path = Path(match.group(2))
        if not path.is_file():
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode()
        return f'{match.group(1)}"data:image/png;base64,{data}"'
    text = re.sub(r'((?:xlink:)?href=)"(/[^"]+\.png)"', embed, svg_path.read_text())
    svg_path.write_text(text)


def render(graph: Graph, outfile: Path, formats: tuple[str, ...] = ("png", "svg")) -> list[Path]:
    """Draw `graph` to `outfile`.<format> for each format; returns the files written."""
    if shutil.which("dot") is None:
        raise RuntimeError("Graphviz's `dot` is not on PATH: run `make diagram` (installs it), "
                           "or apt-get install graphviz / brew install graphviz")
    from diagrams import Cluster as DCluster, Diagram, Edge as DEdge

    icons = _icons()
    outfile.parent.mkdir(parents=True, exist_ok=True)
    children: dict[str | None, list[Cluster]] = {}
    for cluster in graph.clusters:
        children.setdefault(cluster.parent, []).append(cluster)
    drawn: dict[str, object] = {}

    def draw_nodes(cluster_id: str | None) -> None:
        for node in graph.nodes:
            if node.cluster == cluster_id:
                drawn[node.id] = icons.get(node.kind, icons["default"])(node.label)

    def draw_cluster(cluster: Cluster) -> None:
        style = {"fontsize": "14"} if cluster.id in ("region", "vpc") else {}
        with DCluster(cluster.label, graph_attr=style):
            draw_nodes(cluster.id)
            for child in children.get(cluster.id, []):
                draw_cluster(child)

    graph_attr = {"fontsize": "20", "pad": "0.4", "nodesep": "0.9", "ranksep": "1.0"}
    with Diagram(graph.name, filename=str(outfile), outformat=list(formats), show=False,
                 direction="TB", graph_attr=graph_attr):
        draw_nodes(None)
        for cluster in children.get(None, []):
            draw_cluster(cluster)
        for edge in graph.edges:
            line = DEdge(label=edge.label, **EDGE_STYLES[edge.style])
            if edge.upward:  # ranked target above source, arrow still at the target
                drawn[edge.target] << line << drawn[edge.source]
            else:
                drawn[edge.source] >> line >> drawn[edge.target]
    written = [outfile.with_suffix(f".{fmt}") for fmt in formats]
    for path in written:
        if path.suffix == ".svg":
            _inline_images(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.diagram", description=__doc__.split("\n")[0])
    parser.add_argument("--env", help="comma-separated environments (default: all)")
    parser.add_argument("--outdir", type=Path, default=DOCS, help="where to write (default docs/)")
    parser.add_argument("--format", default="png,svg", help="comma-separated (default png,svg)")
    args = parser.parse_args(argv)
    try:
        envs = select_environments(load_environments(ROOT / "environments"), args.env)
        formats = tuple(fmt.strip() for fmt in args.format.split(",") if fmt.strip())
        for env in envs:
            for path in render(architecture(env), args.outdir / f"architecture-{env.name}",
                               formats):
                print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    except (ConfigError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
