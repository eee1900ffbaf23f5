"""ELBv2: DeleteLoadBalancer ignored deletion protection. The patch refuses it with
OperationNotPermitted as AWS does (so destroying app-prod stops at its protected ALB)."""

from __future__ import annotations

from ops.emulator.patches import wrap


def enforce_deletion_protection() -> None:
    from moto.elbv2.exceptions import ELBClientError
    from moto.elbv2.models import ELBv2Backend

    def make(delete_load_balancer):
        def wrapper(self, arn: str) -> None:
            balancer = self.load_balancers.get(arn)
            if balancer is not None and balancer.attrs.get("deletion_protection.enabled") == "true":
                raise ELBClientError("OperationNotPermitted", f"Load balancer '{arn}' cannot be "
                                     "deleted because deletion protection is enabled")
            delete_load_balancer(self, arn)
        return wrapper

    # aws_lb delete with enable_deletion_protection = true: AWS refuses it, moto deleted it.
    wrap(ELBv2Backend, "delete_load_balancer", make)
