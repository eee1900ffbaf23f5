"""Architecture pictures, one per environment, drawn from what its stacks declare.

    python -m ops diagram [--env uat[,prod]] [--outdir docs] [--format png,svg] [--no-synth]

`architecture(inventory, env)` builds the picture as plain data (clusters, nodes, edges) from the
synthesized stacks (ops/inventory.py reads each stack's cdk.tf.json): the VPC and its CIDR, per
AZ (in order) the public and private subnets, the internet gateway, the NAT gateways and which
private subnet routes through which (a route to another AZ's NAT is a red dashed "cross-AZ"
edge), the load balancer, its listener and the S3 bucket of its access logs, each ECS service with
its task size and autoscaling bounds, its log group, the image it pulls and the ECR repository
its releases come from (another environment's, named by its owner, when this one shares it), VPC
endpoints, flow logs (from the VPC) and alarms. Several services sit in their ECS cluster, each
with its own tasks; the load balancer reaches those with a target group (labelled with their
listener rule), not a worker.
Tests check that data; `render()` draws it with the `diagrams` library (which needs Graphviz's
`dot`) into `docs/architecture-<env>.png` and `.svg`: node ids come from the data, not random,
so an unchanged stack gives byte-identical files. The SVG embeds its icons, so it displays
anywhere, not only on the machine that drew it.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from ops.core import OUTDIR, ROOT, synthesized
from ops.core.synth import synthesize
from ops.inventory import Inventory, Service, from_synthesized

DOCS = ROOT / "docs"

CROSS_AZ = "cross_az"  # the style of an edge from a private subnet to another AZ's NAT


@dataclass(frozen=True)
class Cluster:
    id: str
    label: str
    parent: str | None = None  # the enclosing cluster's id; None for top level
    # The label drawn left of the cluster's first node instead of on top, where edges from
    # above would cross it (subnets: as narrow as their icons, entered from above).
    label_beside: bool = False


@dataclass(frozen=True)
class Node:
    id: str
    kind: str  # what icon: "vpc", "igw", "nat", "alb", "fargate", "ecs", "logs", ...
    label: str
    cluster: str | None = None


@dataclass(frozen=True)
class Edge:
    source: str  # a node id, or a cluster id (the edge then starts at the cluster's border)
    target: str
    label: str = ""
    style: str = "normal"  # "normal", CROSS_AZ, or "dotted" (control plane: logs, image pulls)
    upward: bool = False  # drawn bottom to top: the target sits above the source
    ranks: bool = True  # False: does not place nodes (traffic out through NAT), so it cannot
    # pull the AZs out of order
    # The label placed after the layout (Graphviz's xlabel), not as a node of its own between
    # the two levels, whose order there would cross the edges (egress routes beside the ALB's).
    label_apart: bool = False
    side: str = ""  # of the upper node, where the edge meets it; "" bottom, or east when
    # it does not rank
    straight: bool = False  # kept short and straight when nodes are placed (the way in)


@dataclass
class Graph:
    name: str
    clusters: list[Cluster] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)  # nodes kept on one level, left to right

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


def _letter(zone: str) -> str:
    return zone[-1] if zone else "?"


def architecture(inv: Inventory, env: str,
                 repository_owners: Mapping[str, str] | None = None) -> Graph:
    """The picture of what `inv` declares, as data; every label comes from the stacks.
    `repository_owners`: the environment whose stacks create an ECR repository a service pulls
    from when `inv`'s do not, by the repository's name (service.ecr_repository_owner)."""
    services = inv.services
    # Several services: each one's nodes are named after it, and they sit in the ECS cluster
    # they share; one service keeps the picture it always had.
    several = len(services) > 1

    def named(kind: str, service: Service) -> str:
        return f"{kind}:{service.name}" if several else kind

    def tasks(service: Service, zone: str) -> str:
        return f"tasks:{service.name}:{zone}" if several else f"tasks:{zone}"

    title = f"{env}: {', '.join(s.name for s in services) or env} in {inv.region}"
    graph = Graph(title)
    add_cluster, add, connect = graph.clusters.append, graph.nodes.append, graph.edges.append
    zones = inv.zones
    vpc_name, cidr = inv.vpcs[0] if inv.vpcs else ("", "")

    add_cluster(Cluster("region", f"AWS {inv.region}"))
    add_cluster(Cluster("vpc", f"VPC {vpc_name}  {cidr}", "region"))
    if several:
        clusters = ", ".join(dict.fromkeys(s.cluster for s in services if s.cluster))
        add_cluster(Cluster("ecs", f"ECS cluster {clusters}".rstrip(), "region"))
    add(Node("internet", "internet", "internet"))
    if inv.internet_gateways:
        add(Node("igw", "igw", "internet gateway", "vpc"))
    balancer = inv.load_balancers[0] if inv.load_balancers else None
    if balancer:
        listener = ", ".join(balancer.listeners) or "no listener"
        add(Node("alb", "alb", f"ALB {balancer.name}\n"
                               f"{'internal' if balancer.internal else 'internet-facing'}, "
                               f"{listener}\nin the public subnets of "
                               f"{len(balancer.zones)} AZs", "vpc"))
        if inv.internet_gateways and not balancer.internal:
            connect(Edge("internet", "igw", listener, straight=True))
            connect(Edge("igw", "alb", listener, straight=True))
        if balancer.access_logs:
            bucket, days = balancer.access_logs
            add(Node("access_logs", "s3", f"ALB access logs\nS3 {bucket}\n"
                     + (f"{days} days" if days else "kept for ever"), "region"))
            # Left of the VPC, where no other edge runs.
            connect(Edge("alb", "access_logs", style="dotted"))

    tiers = {(zone, tier): cidr for zone, tier, cidr in inv.subnets}
    # The first AZ's NAT gateway left of its ALB node, so that its route up to the internet
    # gateway crosses none of the ALB's edges to its nodes; right of it when other AZs route
    # through it, so that their routes cross none of the first AZ's own.
    shared = {nat for subnet, nat in inv.nat_routes if subnet != nat}
    outer = bool(zones) and zones[0] not in shared
    for zone in zones:
        add_cluster(Cluster(f"az:{zone}", zone, "vpc"))
        for tier in ("public", "private"):
            if (zone, tier) in tiers:
                add_cluster(Cluster(f"{tier}:{zone}", f"{tier} {tiers[zone, tier]}", f"az:{zone}",
                                    label_beside=True))
        if balancer and zone in balancer.zones:
            # The ALB has a node with a public IPv4 in every AZ's public subnet.
            add(Node(f"alb:{zone}", "alb_node", f"ALB node {_letter(zone)}\npublic IPv4",
                     f"public:{zone}"))
            connect(Edge("alb", f"alb:{zone}"))
        if zone in inv.nat_gateways:
            # The first AZ's NAT gateway is drawn left of its ALB node (see graph.rows), and its
            # route up enters the internet gateway from the west, clear of the ALB's edges; it
            # places nodes (ranks), so that it is laid left of the ALB, not across it.
            add(Node(f"nat:{zone}", "nat", f"NAT gateway {_letter(zone)}\n+ Elastic IP",
                     f"public:{zone}"))
            if inv.internet_gateways:
                first = zone == zones[0] and outer
                connect(Edge(f"nat:{zone}", "igw", "0.0.0.0/0", upward=True, ranks=first,
                             side="w" if first else ""))
        if (zone, "private") not in tiers:
            continue
        for service in services:
            add(Node(tasks(service, zone), "fargate",
                     f"{service.name} tasks {_letter(zone)}" if several
                     else f"Fargate tasks {_letter(zone)}", f"private:{zone}"))
            # Only through its target group: a worker has none.
            if balancer and zone in balancer.zones and service.container_port is not None:
                connect(Edge(f"alb:{zone}", tasks(service, zone),
                             "\n".join([*service.routes, f"HTTP :{service.container_port}"])
                             if several else f"HTTP :{service.container_port}"))
    def public_row(zone: str) -> tuple[str, str]:
        return ("nat", "alb") if zone == zones[0] and outer else ("alb", "nat")

    graph.rows = [row for row in ([f"{kind}:{z}" for z in zones for kind in public_row(z)
                                   if any(n.id == f"{kind}:{z}" for n in graph.nodes)],
                                  [tasks(s, z) for z in zones if (z, "private") in tiers
                                   for s in services]) if len(row) > 1]

    for subnet_zone, nat_zone in inv.nat_routes:
        if services and (subnet_zone, "private") in tiers and nat_zone in inv.nat_gateways:
            crossing = nat_zone != subnet_zone
            # The subnet's route, once: from its one service's tasks, or from the subnet.
            connect(Edge(f"private:{subnet_zone}" if several else f"tasks:{subnet_zone}",
                         f"nat:{nat_zone}", "cross-AZ" if crossing else "0.0.0.0/0",
                         CROSS_AZ if crossing else "normal", upward=True,
                         label_apart=True))

    retention = dict(inv.log_groups)
    logs = 0
    for service in services:
        strategy = ("blue/green (CodeDeploy)" if service.deployment == "CODE_DEPLOY"
                    else "rolling deploys")
        # Several services' nodes stand side by side: their labels take more, shorter lines.
        apart = "\n" if several else ", "
        target = f"{apart}CPU target {service.cpu_target:g}%" if service.cpu_target else ""
        if service.queue:
            target += f"{apart}queue {service.queue[0]}: {service.queue[1]:g} messages/task"
        route = ("\n".join(["", f"target group {service.target_group}", *service.routes])
                 if service.target_group else "\nno load balancer") if several else ""
        add(Node(named("service", service), "ecs",
                 f"ECS service {service.name}\n{service.size}\n{service.min_tasks}-"
                 f"{service.max_tasks} tasks{target}\n{strategy}{route}",
                 "ecs" if several else "region"))
        for zone in zones:
            if (zone, "private") in tiers:
                connect(Edge(named("service", service), tasks(service, zone),
                             "runs" if zone == zones[0] else "", "dotted", upward=True))
        for group in service.log_groups:
            days = retention.get(group, 0)
            add(Node(f"logs:{logs}", "logs", f"CloudWatch Logs\n{group}\n"
                     + (f"{days} days" if days else "never expires"), "region"))
            connect(Edge(named("service", service), f"logs:{logs}", "container logs", "dotted"))
            logs += 1
    # This environment's repositories, and those its services may pull from (another
    # environment's when one releases from that environment's repository).
    repositories = list(dict.fromkeys((*inv.ecr_repositories,
                                       *(name for s in services for name in s.repositories))))
    owners = repository_owners or {}

    def repository_label(name: str) -> str:
        whose = "" if name in inv.ecr_repositories else \
            f" ({owners[name]}'s)" if owners.get(name) else " (another stack's)"
        return f"ECR repository{whose}\n{name}"

    images: dict[str, str] = {}  # a label -> its node's id: services pulling one image share it
    from_ecr: dict[str, bool] = {}
    for service in services:
        image = service.images[0] if service.images else ""
        from_ecr[service.name] = "aws_ecr_repository" in image or ".dkr.ecr." in image
        own = service.repositories if several else inv.ecr_repositories
        if from_ecr[service.name]:
            repository = own[0] if own else image.split("/", 1)[-1].split(":")[0].split("@")[0]
            node = Node("", "ecr", repository_label(repository), "region")
            repositories = [name for name in repositories if name != repository]
        else:
            node = Node("", "registry", f"public image\n{image}" + (
                "\nuntil the first release" if service.image_parameters else ""))
        if node.label not in images:
            images[node.label] = f"image:{len(images)}" if several else "image"
            add(dataclasses.replace(node, id=images[node.label]))
        connect(Edge(images[node.label], named("service", service), "image pull", "dotted",
                     upward=True))
    # A repository no service pulls from (yet) is still drawn: releases bring its images when
    # the version of record is an SSM parameter.
    for index, repository in enumerate(repositories):
        add(Node(f"ecr:{index}", "ecr", repository_label(repository), "region"))
        for service in services:
            if service.image_parameters and not from_ecr[service.name] and (
                    not several or repository in service.repositories):
                connect(Edge(f"ecr:{index}", named("service", service), "released images",
                             "dotted", upward=True))

    # What every service uses: from the cluster's border when there are several.
    hub = "ecs" if several else "service"
    endpoints = (*inv.gateway_endpoints, *(name for name, _ in inv.interface_endpoints))
    if endpoints:
        rows = [", ".join(endpoints[i:i + 2]) for i in range(0, len(endpoints), 2)]
        add(Node("endpoints", "endpoint", "\n".join(["VPC endpoints", *rows]), "vpc"))
        if services:
            connect(Edge(hub, "endpoints", "AWS APIs, no NAT", "dotted", upward=True))
    for index, (kind, group) in enumerate(inv.flow_logs):
        days = dict(inv.log_groups).get(group, 0)
        add(Node(f"flow_logs:{index}", "flow_logs", "VPC flow logs\n"
                 + (group or kind) + (f"\n{days} days" if days else ""), "region"))
        connect(Edge("vpc", f"flow_logs:{index}", "all traffic", "dotted"))
    if inv.alarms:
        add(Node("alarms", "alarms", f"CloudWatch alarms\n{inv.alarms}", "region"))
        if services:
            connect(Edge(hub, "alarms", "metrics", "dotted"))
    return graph


# ---------------------------------------------------------------------------------------------
# Drawing, with the `diagrams` library (imported only here: it needs Graphviz to render).


def _icons() -> dict:
    from diagrams.aws.compute import ECR, ECS, Fargate
    from diagrams.aws.management import Cloudwatch, CloudwatchAlarm, CloudwatchLogs
    from diagrams.aws.storage import SimpleStorageServiceS3
    from diagrams.aws.network import (ALB, Endpoint, InternetGateway, NATGateway,
                                      VPCElasticNetworkInterface, VPCFlowLogs)
    from diagrams.onprem.container import Docker
    from diagrams.onprem.network import Internet
    return {"internet": Internet, "igw": InternetGateway, "nat": NATGateway, "alb": ALB,
            "alb_node": VPCElasticNetworkInterface,
            "fargate": Fargate, "ecs": ECS, "logs": CloudwatchLogs, "ecr": ECR,
            "registry": Docker, "endpoint": Endpoint, "flow_logs": VPCFlowLogs,
            "alarms": CloudwatchAlarm,
            "s3": SimpleStorageServiceS3, "default": Cloudwatch}


LABEL_ANGLE = "-60"

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


def _dot_id(id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", id)


def render(graph: Graph, outfile: Path, formats: tuple[str, ...] = ("png", "svg")) -> list[Path]:
    """Draw `graph` to `outfile`.<format> for each format; returns the files written."""
    if shutil.which("dot") is None:
        raise RuntimeError("Graphviz's `dot` is not on PATH: run `make diagram` (installs it), "
                           "or apt-get install graphviz / brew install graphviz")
    from diagrams import Cluster as DCluster, Diagram

    icons = _icons()
    outfile.parent.mkdir(parents=True, exist_ok=True)
    children: dict[str | None, list[Cluster]] = {}
    for cluster in graph.clusters:
        children.setdefault(cluster.parent, []).append(cluster)
    dot_names: dict[str, str] = {}  # cluster id -> its Graphviz subgraph name
    inside: dict[str, list[str]] = {}  # cluster id -> node ids within it, nested ones too

    def draw_nodes(cluster_id: str | None) -> None:
        for node in graph.nodes:
            if node.cluster == cluster_id:
                # ordering=out: a node's out-edges (the ALB's to its AZs) keep their input order,
                # so the AZs come left to right as the stacks list them.
                # The icon on top, the label right under it: the node is no taller than both,
                # so an edge ending on its top touches the icon.
                lines = node.label.count("\n") + 1
                icons.get(node.kind, icons["default"])(
                    node.label, nodeid=_dot_id(node.id), ordering="out", imagepos="tc",
                    height=f"{1.45 + 0.2 * lines:.2f}")

    def draw_cluster(cluster: Cluster) -> list[str]:
        style = {"fontsize": "14"} if cluster.id in ("region", "vpc") else {}
        nodes = [n.id for n in graph.nodes if n.cluster == cluster.id]
        beside = cluster.label_beside and nodes
        with DCluster(cluster.label, graph_attr=dict(style, label="") if beside else style) \
                as drawn:
            dot_names[cluster.id] = drawn.name
            if beside:
                # Beside the leftmost node: the first of a row, else the first declared.
                place = {id: index for row in graph.rows for index, id in enumerate(row)}
                text = _dot_id(f"label:{cluster.id}")
                first = _dot_id(min(nodes, key=lambda id: place.get(id, len(place))))
                drawn.dot.node(text, label=cluster.label.replace(" ", "\n", 1),
                               shape="plaintext", fixedsize="false", width="0", height="0",
                               labelloc="c", fontsize="12")
                drawn.dot.body.append(f'\t{{rank=same; "{text}"; "{first}"}}\n')
                drawn.dot.edge(text, first, style="invis")
            draw_nodes(cluster.id)
            for child in children.get(cluster.id, []):
                nodes += draw_cluster(child)
        inside[cluster.id] = nodes
        return nodes

    # Splines (not diagrams' default "ortho", which cannot place edge labels) keep each label
    # on its edge; newrank lets a row of nodes in different clusters share a level.
    # Labels are wider than their 1.4 in icons, and Graphviz lays out the icons: the
    # horizontal pad leaves room for a label of about 25 characters at the picture's edge.
    graph_attr = {"fontsize": "20", "pad": "1.0,0.4", "nodesep": "0.9", "ranksep": "1.0",
                  "splines": "spline", "newrank": "true", "compound": "true"}
    edge_attr = {"fontname": "Sans-Serif", "fontsize": "13", "fontcolor": "#2D3436"}
    with Diagram(graph.name, filename=str(outfile), outformat=list(formats), show=False,
                 direction="TB", graph_attr=graph_attr, edge_attr=edge_attr) as diagram:
        draw_nodes(None)
        for cluster in children.get(None, []):
            draw_cluster(cluster)
        dot = diagram.dot
        # ordering=out places a node's out-edges left to right as they come: an edge that
        # leaves the west side of the upper node comes first.
        for edge in sorted(graph.edges, key=lambda edge: edge.side != "w"):
            attrs = dict(EDGE_STYLES[edge.style])
            if edge.label and edge.label_apart:  # beside the lower end, clear of the edge
                attrs.update(headlabel=edge.label, labelangle=LABEL_ANGLE, labeldistance="3")
            elif edge.label:
                attrs["label"] = edge.label
            source = edge.source
            if source in inside:  # from a cluster: clip the edge at the cluster's border
                # Drawn upward (a subnet's route up to its NAT), the cluster's end is the head,
                # on its first node: the last would pull itself left, out of its row's order.
                source = inside[source][0 if edge.upward else -1]
                attrs["lhead" if edge.upward else "ltail"] = dot_names[edge.source]
            # Every edge leaves the bottom of the upper node (below its label) and ends on the
            # top of the lower one, so none runs through a node's text or ends beside its icon.
            upper, lower = (edge.target, source) if edge.upward else (source, edge.target)
            # An edge that does not rank (into the internet gateway from beside it) ends on the
            # side of the upper node, half way down: on its icon.
            ports = {"tailport": edge.side or "s", "headport": "n"} if edge.ranks else \
                {"constraint": "false", "tailport": edge.side or "e"}
            if edge.straight:
                ports["weight"] = "8"
            dot.edge(_dot_id(upper), _dot_id(lower), **({"dir": "back"} if edge.upward else {}),
                     **ports, **attrs)
        for row in graph.rows:  # one level, in order: edges within a rank run left to right
            ids = [_dot_id(id) for id in row]
            dot.body.append("\t{rank=same; " + "; ".join(f'"{i}"' for i in ids) + "}\n")
            for left, right in zip(ids, ids[1:]):
                dot.edge(left, right, style="invis")
    written = [outfile.with_suffix(f".{fmt}") for fmt in formats]
    for path in written:
        if path.suffix == ".svg":
            _inline_images(path)
    return written


def synthesized_architecture(env, outdir: Path) -> Graph:
    """The picture of `env`'s stacks as synthesized in `outdir` (cdktf.out)."""
    stacks = synthesized.read_stacks(env.stack_names.values(), outdir)
    return architecture(from_synthesized(stacks, env.region), env.name,
                        {focused.names.repository: focused.service.ecr_repository_owner
                         for focused in env.each_service()
                         if focused.service.ecr_repository_owner})


def draw(envs: list, out: Path, formats: tuple[str, ...], synth_outdir: Path = OUTDIR,
         synth: bool = True) -> list[Path]:
    """Each environment's picture as out/architecture-<env>.<format>, from its stacks in
    `synth_outdir` (synthesized first unless synth=False, skipped when current); the files."""
    written = []
    for env in envs:
        if synth:
            synthesize(env, synth_outdir, reuse=True)
        graph = synthesized_architecture(env, synth_outdir)
        written += render(graph, out / f"architecture-{env.name}", formats)
    return written


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops diagram` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, command="diagram", renames={"--outdir": "--out", "--synth-outdir": "--stacks"})


if __name__ == "__main__":
    sys.exit(main())
