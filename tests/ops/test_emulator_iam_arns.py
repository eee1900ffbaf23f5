"""The resource ARNs the emulator's IAM enforcement builds from a request's parameters
(ops/emulator/iam/arns.py), for calls the stacks' Terraform and ops/ make. No emulator."""

import pytest

from ops.emulator.iam.arns import NEW, UNRESOLVED, build

A = ("aws", "ap-south-1", "123456789012")
P = "arn:aws:{}:ap-south-1:123456789012:{}"


def arns(service, action, params, **keys):
    return build(service, action, params, *A, **keys)


@pytest.mark.parametrize("service, action, params, expected", [
    ("ecs", "CreateCluster", {"clusterName": "web"}, [P.format("ecs", "cluster/web")]),
    ("ecs", "DescribeClusters", {"clusters": ["a", P.format("ecs", "cluster/b")]},
     [P.format("ecs", "cluster/a"), P.format("ecs", "cluster/b")]),
    ("ecs", "UpdateService", {"cluster": P.format("ecs", "cluster/web"), "service": "api"},
     [P.format("ecs", "service/web/api")]),
    ("ecs", "RegisterTaskDefinition", {"family": "web"},
     [P.format("ecs", f"task-definition/web:{NEW}")]),
    ("logs", "CreateLogGroup", {"logGroupName": "/ecs/web"},
     [P.format("logs", "log-group:/ecs/web")]),
    ("logs", "ListTagsForResource", {"resourceArn": P.format("logs", "log-group:/ecs/web")},
     [P.format("logs", "log-group:/ecs/web")]),
    ("ssm", "GetParameters", {"Names": ["/a/b", "/a/c"]},
     [P.format("ssm", "parameter/a/b"), P.format("ssm", "parameter/a/c")]),
    ("cloudwatch", "DeleteAlarms", {"AlarmNames": ["web-cpu"]},
     [P.format("cloudwatch", "alarm:web-cpu")]),
    ("cloudwatch", "PutDashboard", {"DashboardName": "web"},
     ["arn:aws:cloudwatch::123456789012:dashboard/web"]),
    ("sns", "CreateTopic", {"Name": "alarms"}, [P.format("sns", "alarms")]),
    ("ecr", "DescribeImages", {"repositoryName": "web/web"},
     [P.format("ecr", "repository/web/web")]),
    ("codedeploy", "CreateDeploymentGroup",
     {"applicationName": "web", "deploymentGroupName": "blue"},
     [P.format("codedeploy", "deploymentgroup:web/blue")]),
    ("iam", "CreateRole", {"RoleName": "web-task"}, ["arn:aws:iam::123456789012:role/web-task"]),
    ("ec2", "DescribeVpcs", {}, ["*"]),
    # the tag calls of SSM name the resource's type: a parameter, not a maintenance window
    ("ssm", "ListTagsForResource", {"ResourceType": "Parameter", "ResourceId": "/a/b"},
     [P.format("ssm", "parameter/a/b")]),
    # an alias is authorized as ...:alias/<name> (AliasName is alias/<name>) and on its key
    ("kms", "CreateAlias", {"AliasName": "alias/web-alarms", "TargetKeyId": "1234"},
     [P.format("kms", "alias/web-alarms"), P.format("kms", "key/1234")]),
])
def test_arns_from_parameters(service, action, params, expected):
    resolve = {"RoleNameWithPath": params["RoleName"]} if "RoleName" in params else None
    assert arns(service, action, params, resolve=resolve) == (expected, [])


def test_elbv2_calls_are_authorized_on_version_2_load_balancers():
    created, missing = arns("elasticloadbalancing", "CreateLoadBalancer",
                            {"Name": "web", "Type": "application"}, variant="elbv2")
    assert (created, missing) == ([P.format("elasticloadbalancing",
                                            f"loadbalancer/app/web/{NEW}")], [])
    network = arns("elasticloadbalancing", "CreateLoadBalancer",
                   {"Name": "web", "Type": "network"}, variant="elbv2")[0]
    assert network == [P.format("elasticloadbalancing", f"loadbalancer/net/web/{NEW}")]
    group = P.format("elasticloadbalancing", "targetgroup/web/0123")
    assert arns("elasticloadbalancing", "AddTags", {"ResourceArns": [group]},
                variant="elbv2") == ([group], [])


def test_an_unknown_resource_is_strict_and_reported():
    built, missing = arns("codedeploy", "GetDeployment", {"deploymentId": "d-1"})
    assert built == [P.format("codedeploy", f"deploymentgroup:{UNRESOLVED}/{UNRESOLVED}")]
    assert missing == ["codedeploy:GetDeployment ApplicationName",
                       "codedeploy:GetDeployment DeploymentGroupName"]
