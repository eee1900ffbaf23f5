"""Ship a version of the application: release, promote, roll back, and see what runs where.

    python -m ops release  --env E --version V    (V: an image tag, or sha256:<digest>)
    python -m ops promote  --from uat --to prod
    python -m ops rollback --env E
    python -m ops status   [--env E]
    python -m ops unlock   --env E                 (clear the lock of a release that died)
    options: --target emulator|aws (default $DEPLOY_TARGET, else emulator), --timeout S, --poll S

The version of record is the SSM parameter `/<project>/<env>/<service>/image`: the app stack
reads it for the task definition's image, so Terraform and this tool always agree on what runs,
a plain `terraform apply` never goes back to an older image, and the parameter's history is the
release history (rollback, audit). A release:

1. resolves V to a digest in the environment's ECR repository (refused when it is not there);
2. takes the environment's release lock (an SSM parameter created only if absent);
3. refuses while a CodeDeploy deployment runs, or when the app stack, planned with the current
   version of record, has changes a release does not make (those go through review first):
   every refusal comes before anything is written;
4. tags the digest `release-<env>-<UTC time>` (the repository's lifecycle policy keeps those
   images) and writes `<repository url>@sha256:...` as the version of record, saying who
   released what;
5. plans the app stack and applies that saved plan (it replaces the task definition and
   updates the service, nothing else);
6. rolling mode: waits until ECS reports the deployment COMPLETED with every task running;
   blue/green mode: creates the CodeDeploy deployment (AppSpec naming the new task definition,
   container and port) and waits for it: the traffic shift, then the termination wait (the
   original task set kept for a rollback), reported as its own phase. The default wait is the
   deployment config's shift plus termination wait plus a margin for task start (--timeout
   overrides it); when it ends during the termination wait, the release counts as done;
7. when the rollout fails (circuit breaker or CodeDeploy rollback), writes the previous version
   of record back and re-applies, so the stack matches what runs.

Exit status: 0 done, 1 the rollout failed and was rolled back (or did not finish in time),
2 refused: bad input or a state that forbids the release; nothing was changed.

The package, one module per concern (as ecspresso splits deploy/rollback/wait/appspec): target
(the environment and image a release works on), record (the version of record, its history,
the images), lock, deploy (a release and its rollout, the AppSpec), wait (ECS, CodeDeploy),
promote, rollback, status. Its commands are `python -m ops release|promote|rollback|status|
unlock` (ops/commands/).
"""

from ops.errors import Refused
from ops.release.deploy import (PLAN_FILE, RELEASE_ACTIONS, appspec, apply_version_of_record,
                                check_release_applies, deploy, deploy_with_codedeploy,
                                deploy_changed, describe_release, each_service,
                                refuse_unexpected, release, unexpected_changes)
from ops.release.lock import describe_lock, release_lock, unlock
from ops.release.promote import check_healthy, promote, promote_changed
from ops.release.record import (MANIFEST_TYPES, RESTORE, find_image, history,
                                image_of_reference, previous_version, release_entry,
                                release_tag, require_repository, tag_release, version_of_record)
from ops.release.rollback import rollback
from ops.release.status import STATUS_COLUMNS, in_deploy_order, status, status_row
from ops.release.target import (DIGEST, TAG, Image, RolloutFailed, Target, commit, released_by)
from ops.release.wait import (BATCH_GET_DEPLOYMENTS, CODEDEPLOY_RUNNING, ROLLING_WAIT_SECONDS,
                              START_MARGIN_SECONDS, codedeploy_deployments, deployment_state,
                              describe_service, latest_codedeploy_deployment, release_wait,
                              revision, revision_name, running_codedeploy_deployments,
                              traffic_shift_minutes, wait_for_ecs)



def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops release, promote, rollback, unlock, status`
    (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, commands={"deploy": "release", "promote": "promote",
                                 "rollback": "rollback", "unlock": "unlock", "status": "status"})

__all__ = [
    "Refused", "main", "PLAN_FILE",
    "RELEASE_ACTIONS", "appspec", "apply_version_of_record", "check_release_applies", "deploy",
    "deploy_with_codedeploy", "deploy_changed", "each_service", "promote_changed",
    "describe_release", "refuse_unexpected", "release",
    "unexpected_changes", "describe_lock", "release_lock", "unlock", "check_healthy", "promote",
    "MANIFEST_TYPES", "RESTORE", "find_image", "history", "image_of_reference",
    "previous_version", "release_entry", "release_tag", "require_repository", "tag_release",
    "version_of_record", "rollback", "STATUS_COLUMNS", "in_deploy_order", "status", "status_row",
    "DIGEST", "TAG", "Image", "RolloutFailed", "Target", "commit", "released_by",
    "BATCH_GET_DEPLOYMENTS", "CODEDEPLOY_RUNNING", "ROLLING_WAIT_SECONDS", "START_MARGIN_SECONDS",
    "codedeploy_deployments", "deployment_state", "describe_service",
    "latest_codedeploy_deployment", "release_wait", "revision", "revision_name",
    "running_codedeploy_deployments", "traffic_shift_minutes", "wait_for_ecs",
]
