"""ops/diagram.py: the picture's structure follows the config (no rendering), and one smoke
render when Graphviz is installed."""

import dataclasses
import html

import pytest

from constructs_lib.config import NatGateways
from ops import diagram
from ops.diagram import CROSS_AZ, architecture

ZONES = ("ap-south-1a", "ap-south-1b", "ap-south-1c")


def test_uat_has_one_nat_and_two_cross_az_routes(environments):
    graph = architecture(environments["uat"])
    assert [node.id for node in graph.of_kind("nat")] == ["nat:ap-south-1a"]
    crossing = graph.edges_styled(CROSS_AZ)
    assert sorted((e.source, e.target) for e in crossing) == [
        ("tasks:ap-south-1b", "nat:ap-south-1a"), ("tasks:ap-south-1c", "nat:ap-south-1a")]
    assert all(edge.label == "cross-AZ" for edge in crossing)
    # a's private subnet uses its own AZ's NAT, on an ordinary edge
    assert diagram.Edge("tasks:ap-south-1a", "nat:ap-south-1a", "0.0.0.0/0",
                        upward=True) in graph.edges


def test_prod_has_a_nat_per_az_and_no_cross_az_route(environments):
    graph = architecture(environments["prod"])
    assert [node.id for node in graph.of_kind("nat")] == [f"nat:{zone}" for zone in ZONES]
    assert graph.edges_styled(CROSS_AZ) == []
    for zone in ZONES:
        assert graph.node(f"nat:{zone}").cluster == f"public:{zone}"
        assert any(e.source == f"tasks:{zone}" and e.target == f"nat:{zone}"
                   for e in graph.edges)


def test_vpc_azs_and_subnets_carry_their_cidrs(env):
    graph = architecture(env)
    assert env.network.cidr in graph.cluster("vpc").label
    for zone in env.network.availability_zones:
        assert graph.cluster(f"az:{zone}").parent == "vpc"
        public, private = graph.cluster(f"public:{zone}"), graph.cluster(f"private:{zone}")
        assert public.label == f"public {env.network.public_subnet_cidr(zone)}"
        assert private.label == f"private {env.network.private_subnet_cidr(zone)}"
        assert public.parent == private.parent == f"az:{zone}"
        assert graph.node(f"tasks:{zone}").cluster == f"private:{zone}"
        assert graph.node(f"alb:{zone}").cluster == f"public:{zone}"


def test_every_edge_joins_known_nodes_and_clusters_nest(env):
    graph = architecture(env)
    ids = {node.id for node in graph.nodes}
    assert len(ids) == len(graph.nodes)
    assert all(edge.source in ids and edge.target in ids for edge in graph.edges)
    clusters = {cluster.id for cluster in graph.clusters}
    assert all(node.cluster is None or node.cluster in clusters for node in graph.nodes)
    assert all(c.parent is None or c.parent in clusters for c in graph.clusters)
    assert {"internet", "igw", "alb", "service", "logs", "image"} <= ids


def test_service_label_shows_task_size_and_counts(environments):
    uat = architecture(environments["uat"]).node("service").label
    assert "2 vCPU / 4 GB per task" in uat and "1-3 tasks" in uat
    prod = architecture(environments["prod"]).node("service").label
    assert "2-6 tasks" in prod
    assert "/ecs/hello-world-uat" in architecture(environments["uat"]).node("logs").label


def test_switching_uat_to_one_nat_per_az_removes_the_cross_az_edges(environments):
    uat = environments["uat"]
    per_az = dataclasses.replace(uat, network=dataclasses.replace(
        uat.network, nat_gateways=NatGateways.ONE_PER_AZ))
    graph = architecture(per_az)
    assert len(graph.of_kind("nat")) == 3 and graph.edges_styled(CROSS_AZ) == []


def test_optional_settings_add_their_nodes(environments):
    uat = environments["uat"]
    off = dataclasses.replace(uat, network=dataclasses.replace(uat.network, vpc_endpoints=False))
    on = dataclasses.replace(uat, network=dataclasses.replace(uat.network, vpc_endpoints=True))
    assert architecture(off).of_kind("endpoint") == []
    assert "ecr.api" in architecture(on).node("endpoints").label
    public = dataclasses.replace(uat, service=dataclasses.replace(
        uat.service, ecr_repository=False))
    assert architecture(uat).node("image").kind == "ecr"
    assert architecture(public).node("image").kind == "registry"


def test_renders_png_and_self_contained_svg(environments, tmp_path):
    written = diagram.render(architecture(environments["uat"]), tmp_path / "architecture-uat")
    assert [path.name for path in written] == ["architecture-uat.png", "architecture-uat.svg"]
    assert all(path.stat().st_size > 10_000 for path in written)
    svg = html.unescape(written[1].read_text())
    assert "cross-AZ" in svg and "10.0.0.0/16" in svg
    assert 'href="/' not in svg  # icons are embedded, not linked to this machine's files
