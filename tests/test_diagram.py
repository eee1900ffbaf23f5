"""ops/diagram.py: the picture's structure follows the synthesized stacks (no rendering), and
renders (when Graphviz is installed) that are byte-identical run after run."""

import dataclasses
import gzip
import html
import json
import re
from pathlib import Path


from ops import diagram, inventory
from ops.core.synthesized import read_stacks
from ops.diagram import CROSS_AZ, architecture

ZONES = ("ap-south-1a", "ap-south-1b", "ap-south-1c")
PLANS = Path(__file__).parent / "fixtures" / "plans"


def synthesized_graph(synthesized, env) -> diagram.Graph:
    return diagram.synthesized_architecture(env, synthesized.outdir)


def test_nat_gateways_and_routes_are_the_synthesized_ones(synthesized, env):
    graph = synthesized_graph(synthesized, env)
    network = f"network-{env.name}"
    nats = synthesized.resources(network, "aws_nat_gateway")
    subnets = synthesized.resources(network, "aws_subnet")
    zone_of = {f"${{aws_subnet.{name}.id}}": s["availability_zone"] for name, s in subnets.items()}
    assert [node.id for node in graph.of_kind("nat")] == sorted(
        f"nat:{zone_of[nat['subnet_id']]}" for nat in nats.values())
    # One edge per private subnet to the NAT its default route names; another AZ's is red.
    routes = [e for e in graph.edges if e.source.startswith("tasks:") and e.target.startswith("nat:")]
    assert len(routes) == len([r for r in synthesized.resources(network, "aws_route").values()
                               if "nat_gateway_id" in r])
    for edge in routes:
        assert (edge.style == CROSS_AZ) == (edge.source[6:] != edge.target[4:])
        assert edge.label == ("cross-AZ" if edge.style == CROSS_AZ else "0.0.0.0/0")


def test_uat_has_one_nat_and_two_cross_az_routes(synthesized, environments):
    graph = synthesized_graph(synthesized, environments["uat"])
    assert [node.id for node in graph.of_kind("nat")] == ["nat:ap-south-1a"]
    assert sorted((e.source, e.target) for e in graph.edges_styled(CROSS_AZ)) == [
        ("tasks:ap-south-1b", "nat:ap-south-1a"), ("tasks:ap-south-1c", "nat:ap-south-1a")]


def test_prod_has_a_nat_per_az_and_no_cross_az_route(synthesized, environments):
    graph = synthesized_graph(synthesized, environments["prod"])
    assert [node.id for node in graph.of_kind("nat")] == [f"nat:{zone}" for zone in ZONES]
    assert graph.edges_styled(CROSS_AZ) == []
    for zone in ZONES:
        assert graph.node(f"nat:{zone}").cluster == f"public:{zone}"


def test_azs_come_in_order_with_their_subnets_cidrs(synthesized, env):
    graph = synthesized_graph(synthesized, env)
    assert [c.id for c in graph.clusters if c.id.startswith("az:")] == [f"az:{z}" for z in ZONES]
    assert graph.rows[-1] == [f"tasks:{zone}" for zone in ZONES]  # drawn left to right
    (vpc,) = synthesized.resources(f"network-{env.name}", "aws_vpc").values()
    assert graph.cluster("vpc").label == f"VPC {vpc['tags']['Name']}  {vpc['cidr_block']}"
    for subnet in synthesized.resources(f"network-{env.name}", "aws_subnet").values():
        zone, tier = subnet["availability_zone"], subnet["tags"]["Tier"]
        cluster = graph.cluster(f"{tier}:{zone}")
        assert cluster.label == f"{tier} {subnet['cidr_block']}" and cluster.parent == f"az:{zone}"


def test_every_edge_joins_known_nodes_or_clusters_and_flow_logs_leave_the_vpc(synthesized, env):
    graph = synthesized_graph(synthesized, env)
    ids = {node.id for node in graph.nodes}
    clusters = {cluster.id for cluster in graph.clusters}
    assert len(ids) == len(graph.nodes)
    assert all(edge.source in ids | clusters and edge.target in ids for edge in graph.edges)
    assert all(node.cluster is None or node.cluster in clusters for node in graph.nodes)
    assert {"internet", "igw", "alb", "service", "image", "alarms"} <= ids
    flow_logs = [e for e in graph.edges if e.target.startswith("flow_logs:")]
    assert [e.source for e in flow_logs] == ["vpc"] * len(
        synthesized.resources(f"network-{env.name}", "aws_flow_log"))


def test_service_label_shows_task_size_and_scaling_bounds(synthesized, environments):
    uat = synthesized_graph(synthesized, environments["uat"])
    assert "2 vCPU / 4 GB per task\n1-3 tasks, CPU target 70%" in uat.node("service").label
    assert "2-6 tasks" in synthesized_graph(synthesized, environments["prod"]).node(
        "service").label
    assert uat.node("logs:0").label == "CloudWatch Logs\n/ecs/hello-world-uat\n30 days"
    assert uat.node("alb").label.startswith("ALB hello-world-uat\ninternet-facing, HTTP :80")


def test_several_services_each_have_their_node_and_tasks_in_the_one_cluster(several_services):
    graph = diagram.synthesized_architecture(several_services.environment,
                                             several_services.outdir)
    assert graph.name == "shop: api-shop, worker-shop in ap-south-1"
    assert graph.cluster("ecs").label == "ECS cluster shop-shop"
    assert [(n.id, n.cluster) for n in graph.of_kind("ecs")] == [
        ("service:api-shop", "ecs"), ("service:worker-shop", "ecs")]
    # Each one's own size and scaling bounds, read from its task definition and scaling target.
    assert graph.node("service:api-shop").label == (
        "ECS service api-shop\n1 vCPU / 2 GB per task\n1-3 tasks\nCPU target 70%\n"
        "rolling deploys\ntarget group api-shop\n/api/*")
    assert graph.node("service:worker-shop").label == (
        "ECS service worker-shop\n0.5 vCPU / 1 GB per task\n1-2 tasks\nCPU target 70%\n"
        "rolling deploys\nno load balancer")
    assert graph.rows[-1] == [f"tasks:{name}:{zone}" for zone in ZONES
                              for name in ("api-shop", "worker-shop")]
    into = {(e.source, e.target): e.label for e in graph.edges}
    for zone in ZONES:
        for name in ("api-shop", "worker-shop"):
            assert graph.node(f"tasks:{name}:{zone}").cluster == f"private:{zone}"
            assert (f"service:{name}", f"tasks:{name}:{zone}") in into
        # Through the API's listener rule and target group; nothing reaches the worker's tasks
        # from the load balancer.
        assert into[f"alb:{zone}", f"tasks:api-shop:{zone}"] == "/api/*\nHTTP :8000"
        assert [source for source, target in into if target == f"tasks:worker-shop:{zone}"] == [
            "service:worker-shop"]
    # Each private subnet's route to the NAT, once; the shared ALB and its listener, once.
    assert sorted((s, t) for s, t in into if t.startswith("nat:") and s != "igw") == [
        (f"private:{zone}", "nat:ap-south-1a") for zone in ZONES]
    assert len(graph.of_kind("alb")) == 1 and graph.node("alb").label.startswith("ALB shop-shop")
    assert {(graph.node(s).label.split("\n")[-1], t) for s, t in into
            if s.startswith("ecr:")} == {("shop/api", "service:api-shop"),
                                         ("shop/worker", "service:worker-shop")}
    assert {t for s, t in into if s.startswith("logs") or t.startswith("logs")} == {
        "logs:0", "logs:1"}
    ids = {node.id for node in graph.nodes} | {cluster.id for cluster in graph.clusters}
    assert all(edge.source in ids and edge.target in ids for edge in graph.edges)


def test_several_services_are_drawn_with_no_arrow_from_the_load_balancer_to_the_worker(
        several_services, tmp_path):
    graph = diagram.synthesized_architecture(several_services.environment,
                                             several_services.outdir)
    (svg,) = diagram.render(graph, tmp_path / "architecture-shop", ("svg",))
    nodes, edges, clusters = _svg_geometry(svg)
    drawn = {(tail, head) for tail, head, *_ in edges}
    assert len(edges) == len({(e.source, e.target) for e in graph.edges})
    for zone in ZONES:
        api, worker = (nodes[diagram._dot_id(f"tasks:{name}:{zone}")]
                       for name in ("api-shop", "worker-shop"))
        assert api[2] < worker[0]  # the row's order: the API, then the worker
        alb = diagram._dot_id(f"alb:{zone}")
        assert (alb, diagram._dot_id(f"tasks:api-shop:{zone}")) in drawn
        assert not any(head.startswith("tasks_worker") for tail, head in drawn if tail == alb)
    assert "cluster_ECS cluster shop-shop" in clusters


def test_a_planned_nat_per_az_removes_the_cross_az_edges(environments):
    plans = {path.name.removesuffix(".json.gz"): json.loads(
        gzip.decompress(path.read_bytes())) for path in (PLANS / "uat-one-nat-per-az").glob("*.gz")}
    before, after = inventory.plan_sides(plans)
    assert len(architecture(inventory.inventory(before, "ap-south-1"), "uat")
               .edges_styled(CROSS_AZ)) == 2
    graph = architecture(inventory.inventory(after, "ap-south-1"), "uat")
    assert len(graph.of_kind("nat")) == 3 and graph.edges_styled(CROSS_AZ) == []


def test_endpoints_and_an_ecr_image_get_their_nodes(synthesized, environments):
    stacks = read_stacks(environments["uat"].stack_names.values(), synthesized.outdir)
    inv = inventory.from_synthesized(stacks)
    assert architecture(inv, "uat").of_kind("endpoint") == []
    assert architecture(inv, "uat").node("image").kind == "registry"
    service = dataclasses.replace(inv.services[0], images=(
        "123456789012.dkr.ecr.ap-south-1.amazonaws.com/hello-world/hello-world:3f9c2e1a7b4d",))
    changed = dataclasses.replace(inv, interface_endpoints=(("ecr.api", 3),),
                                  gateway_endpoints=("s3",), services=(service,))
    graph = architecture(changed, "uat")
    assert graph.node("endpoints").label == "VPC endpoints\ns3, ecr.api"
    assert graph.node("image").label == "ECR repository\nhello-world/hello-world"
    # A repository the service does not pull from yet is drawn on its own.
    unused = dataclasses.replace(inv, ecr_repositories=("hello-world/hello-world",))
    assert architecture(unused, "uat").node("ecr:0").label == \
        "ECR repository\nhello-world/hello-world"
    assert architecture(unused, "uat").node("image").kind == "registry"


def test_renders_are_self_contained_and_byte_identical_run_after_run(synthesized, environments,
                                                                     tmp_path):
    graph = synthesized_graph(synthesized, environments["uat"])
    first = diagram.render(graph, tmp_path / "one" / "architecture-uat")
    second = diagram.render(synthesized_graph(synthesized, environments["uat"]),
                            tmp_path / "two" / "architecture-uat")
    assert [path.name for path in first] == ["architecture-uat.png", "architecture-uat.svg"]
    assert [path.read_bytes() for path in first] == [path.read_bytes() for path in second]
    svg = html.unescape(first[1].read_text())
    assert "cross-AZ" in svg and "10.0.0.0/16" in svg
    assert 'href="/' not in svg  # icons are embedded, not linked to this machine's files
    assert not re.search(r"[0-9a-f]{32}", re.sub(r'base64,[^"]+', "", svg))  # no random ids


def _points(text: str) -> list[tuple[float, float]]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text)]
    return list(zip(numbers[::2], numbers[1::2]))


def _svg_geometry(svg_path: Path):
    """Node boxes (icon and label), edge ends and arrow tips, cluster boxes of a rendered SVG."""
    import xml.etree.ElementTree as ET

    ns = {"s": "http://www.w3.org/2000/svg"}
    root = ET.parse(svg_path).getroot()
    nodes, edges, clusters = {}, [], {}
    for group in root.iter("{http://www.w3.org/2000/svg}g"):
        title = group.findtext("s:title", namespaces=ns)
        kind = group.get("class")
        if kind == "node" and group.find("s:image", ns) is not None:
            image = group.find("s:image", ns)
            x, y = float(image.get("x")), float(image.get("y"))
            width, height = (float(image.get(k).rstrip("px")) for k in ("width", "height"))
            bottom = max([y + height] + [float(t.get("y")) + 4 for t in group.findall("s:text", ns)])
            nodes[title] = (x, y, x + width, bottom)
        elif kind == "edge" and group.find("s:polygon", ns) is not None:
            tail, head = (re.sub(r":[nsew]$", "", end) for end in title.split("->"))
            path = _points(group.find("s:path", ns).get("d"))
            arrow = _points(group.find("s:polygon", ns).get("points"))
            edges.append((tail, head, path[0], path[-1], arrow))
        elif kind == "cluster":
            points = _points(group.find("s:path", ns).get("d"))
            clusters[title] = (min(p[0] for p in points), min(p[1] for p in points),
                               max(p[0] for p in points), max(p[1] for p in points))
    return nodes, edges, clusters


def test_the_drawn_picture_keeps_azs_in_order_and_every_arrow_on_its_node(
        synthesized, env, tmp_path):
    graph = synthesized_graph(synthesized, env)
    (svg,) = diagram.render(graph, tmp_path / f"architecture-{env.name}", ("svg",))
    nodes, edges, clusters = _svg_geometry(svg)
    lefts = [clusters[f"cluster_{zone}"][0] for zone in ZONES]
    assert lefts == sorted(lefts)  # a, b, c from left to right
    drawn = {(e.source, e.target) for e in graph.edges}
    assert len(edges) == len(drawn)  # every edge of the graph, nothing else visible
    tolerance = 3
    for tail, head, start, end, arrow in edges:
        # The arrow sits at the path's end nearer to it; its tip is the point furthest from it.
        centre = (sum(x for x, _ in arrow) / len(arrow), sum(y for _, y in arrow) / len(arrow))
        near = min((start, tail), (end, head), key=lambda pair: (pair[0][0] - centre[0]) ** 2
                   + (pair[0][1] - centre[1]) ** 2)
        tip = max(arrow, key=lambda p: (p[0] - near[0][0]) ** 2 + (p[1] - near[0][1]) ** 2)
        left, top, right, bottom = nodes[near[1]]
        assert left - tolerance <= tip[0] <= right + tolerance and \
            top - tolerance <= tip[1] <= bottom + tolerance, f"{tail}->{head} ends beside {near[1]}"
    vpc = next(box for title, box in clusters.items() if title.startswith("cluster_VPC "))
    (flow,) = [e for e in edges if e[1].startswith("flow_logs")]
    assert abs(flow[2][1] - vpc[3]) <= tolerance  # starts on the VPC's lower border


def test_prod_shows_the_repository_it_releases_from_and_its_access_log_bucket(
        synthesized, environments):
    prod, uat = environments["prod"], environments["uat"]
    owner = prod.service.ecr_repository_owner
    assert owner == "uat" and prod.service.alb_access_logs  # what this test is about
    graph = synthesized_graph(synthesized, prod)
    # The repository is created by uat's state stack, not by any of prod's: the picture reads
    # its name from the execution role's pull permission.
    assert not any(synthesized.resources(name, "aws_ecr_repository")
                   for name in prod.stack_names.values())
    (repository,) = graph.of_kind("ecr")
    assert repository.label == f"ECR repository ({owner}'s)\n{uat.names.repository}"
    assert ("ecr:0", "service", "released images") in {
        (e.source, e.target, e.label) for e in graph.edges}
    (bucket,) = synthesized.resources(f"app-{prod.name}", "aws_s3_bucket").values()
    (lifecycle,) = synthesized.resources(
        f"app-{prod.name}", "aws_s3_bucket_lifecycle_configuration").values()
    days = lifecycle["rule"][0]["expiration"][0]["days"]
    assert graph.node("access_logs").label == \
        f"ALB access logs\nS3 {bucket['bucket_prefix']}*\n{days} days"
    assert ("alb", "access_logs") in {(e.source, e.target) for e in graph.edges}
    # uat keeps no access logs and draws its own repository without an owner.
    uat_graph = synthesized_graph(synthesized, uat)
    assert not uat.service.alb_access_logs and "access_logs" not in {n.id for n in uat_graph.nodes}
    assert [n.label for n in uat_graph.of_kind("ecr")] == [
        f"ECR repository\n{uat.names.repository}"]


def _curve(d: str, steps: int = 12) -> list[tuple[float, float]]:
    """An SVG path of cubic Béziers (what Graphviz draws an edge with) as a polyline."""
    points = _points(d)
    line = [points[0]]
    for i in range(1, len(points) - 2, 3):
        a, b, c, e = points[i - 1:i + 3]
        for k in range(1, steps + 1):
            t = k / steps
            line.append(tuple((1 - t) ** 3 * a[j] + 3 * (1 - t) ** 2 * t * b[j]
                              + 3 * (1 - t) * t ** 2 * c[j] + t ** 3 * e[j] for j in (0, 1)))
    return line


def _crossing(p, q, r, s):
    """Where segment pq crosses segment rs (not where they only touch), or None."""
    def side(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    d1, d2, d3, d4 = side(r, s, p), side(r, s, q), side(p, q, r), side(p, q, s)
    if d1 * d2 < 0 and d3 * d4 < 0:
        t = d1 / (d1 - d2)
        return p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])
    return None


def _crossings(svg_path: Path, margin: float = 6):
    """{(edge, edge): [points]} of the drawn edges (each a frozenset of its two dot node ids)
    that cross, away from a node both end on."""
    import xml.etree.ElementTree as ET

    ns = {"s": "http://www.w3.org/2000/svg"}
    nodes, _, clusters = _svg_geometry(svg_path)
    drawn = []
    for group in ET.parse(svg_path).getroot().iter("{http://www.w3.org/2000/svg}g"):
        if group.get("class") == "edge" and group.find("s:polygon", ns) is not None:
            title = group.findtext("s:title", namespaces=ns)
            ends = frozenset(re.sub(r":[nsew]$", "", end) for end in title.split("->"))
            drawn.append((ends, _curve(group.find("s:path", ns).get("d"))))
    found = {}
    for index, (one, first) in enumerate(drawn):
        for other, second in drawn[index + 1:]:
            shared = [nodes[n] for n in one & other if n in nodes]
            for p, q in zip(first, first[1:]):
                for r, s in zip(second, second[1:]):
                    point = _crossing(p, q, r, s)
                    if point and not any(left - margin <= point[0] <= right + margin and
                                         top - margin <= point[1] <= bottom + margin
                                         for left, top, right, bottom in shared):
                        found.setdefault((one, other), []).append(point)
    return found, clusters


def test_no_edges_tangle_in_the_first_az(synthesized, env, tmp_path):
    """Read from where Graphviz drew the edges: no two of the first AZ's edges (those leaving
    it, and the other AZs' routes into its NAT gateway) cross, no edges cross inside its box,
    and when no other AZ routes through it (prod) no edge crosses any edge of it."""
    graph = synthesized_graph(synthesized, env)
    (svg,) = diagram.render(graph, tmp_path / f"architecture-{env.name}", ("svg",))
    crossings, clusters = _crossings(svg)
    first = ZONES[0]

    def az(node_id: str) -> str | None:
        cluster = next((n.cluster for n in graph.nodes if n.id == node_id), None)
        while cluster and not cluster.startswith("az:"):
            cluster = graph.cluster(cluster).parent
        return cluster and cluster[3:]

    def ends(edge: diagram.Edge) -> frozenset[str]:
        return frozenset(diagram._dot_id(end) for end in (edge.source, edge.target))

    own = {ends(e) for e in graph.edges
           if az(e.source) == first or (az(e.target) == first and az(e.source))}
    assert len(own) >= 3  # from the ALB node, the NAT gateway and the tasks at least
    assert [pair for pair in crossings if set(pair) <= own] == []
    left, top, right, bottom = clusters[f"cluster_{first}"]
    assert [(set(pair), point) for pair, points in crossings.items() for point in points
            if left <= point[0] <= right and top <= point[1] <= bottom] == []
    if not [route for route in graph.edges_styled(CROSS_AZ) if route.target == f"nat:{first}"]:
        touching = {ends(e) for e in graph.edges if first in (az(e.source), az(e.target))}
        assert [pair for pair in crossings if set(pair) & touching] == []


def test_a_planned_access_log_bucket_is_read_before_and_after_it_exists():
    rule = [{"id": "expire-access-logs", "status": "Enabled", "filter": [{"prefix": ""}],
             "expiration": [{"days": 90, "date": None, "expired_object_delete_marker": False}]}]
    named = "hello-world-prod-alb-logs-20261206042500"
    kept = {"aws_lb": {"name": "hello-world-prod", "load_balancer_type": "application",
                       "access_logs": [{"bucket": named, "enabled": True, "prefix": ""}]},
            "aws_s3_bucket": {"id": named, "bucket": named,
                              "bucket_prefix": "hello-world-prod-alb-logs-"},
            "aws_s3_bucket_lifecycle_configuration": {"bucket": named, "rule": rule}}
    # To be created: the bucket's name is not known, the configuration says which it is.
    new = {"aws_lb": {"name": "hello-world-prod", "load_balancer_type": "application",
                      "access_logs": [{"enabled": True, "prefix": ""}]},
           "aws_s3_bucket": {"bucket_prefix": "hello-world-prod-alb-logs-"},
           "aws_s3_bucket_lifecycle_configuration": {"rule": rule}}
    reference = {"references": ["aws_s3_bucket.logs.id", "aws_s3_bucket.logs"]}
    plan = {"resource_changes": [
        {"address": f"{type_}.{name}", "type": type_, "mode": "managed",
         "change": {"before": kept[type_], "after": new[type_]}}
        for type_, name in (("aws_lb", "alb"), ("aws_s3_bucket", "logs"),
                            ("aws_s3_bucket_lifecycle_configuration", "logs"))],
        "configuration": {"root_module": {"resources": [
            {"address": "aws_lb.alb", "expressions": {
                "access_logs": [{"bucket": reference, "enabled": {"constant_value": True}}]}},
            {"address": "aws_s3_bucket_lifecycle_configuration.logs",
             "expressions": {"bucket": reference}}]}}}
    before, after = inventory.plan_sides({"app-prod": plan})
    (deployed,) = inventory.inventory(before, "ap-south-1").load_balancers
    (planned,) = inventory.inventory(after, "ap-south-1").load_balancers
    assert deployed.access_logs == (named, 90)
    assert planned.access_logs == ("hello-world-prod-alb-logs-*", 90)
