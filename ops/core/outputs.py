"""The stack outputs the tools read, by name: one table (the app stack declares them,
constructs_lib/stacks.py; tests/ops/test_outputs.py checks each is declared). A value the
config already holds (the container's name and port, the service's names) is read from the
config, never back from an output.
"""

ALB_URL = "alb_url"  # `up` prints it; smoke checks it
ALB_DNS_NAME = "alb_dns_name"  # smoke connects here while an https domain does not resolve
TASK_DEFINITION_ARN = "task_definition_arn"  # the revision a release rolls out
CODEDEPLOY_APPLICATION = "codedeploy_application"  # blue/green: where a release deploys
CODEDEPLOY_DEPLOYMENT_GROUP = "codedeploy_deployment_group"

APP = (ALB_URL, ALB_DNS_NAME, TASK_DEFINITION_ARN)  # every app stack
BLUE_GREEN = (CODEDEPLOY_APPLICATION, CODEDEPLOY_DEPLOYMENT_GROUP)  # a blue/green app stack
