"""Application Auto Scaling: moto lacks TagResource, UntagResource and ListTagsForResource (the
provider retried them for many minutes) and dropped the Tags of RegisterScalableTarget. The
patch keeps tags in memory by scalable target ARN and answers those calls."""

from __future__ import annotations

import json

from ops.emulator.patches import wrap


def add_tagging() -> None:
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse as Response
    from moto.core.exceptions import JsonRESTError

    def tags_of(response, arn: str) -> dict[str, str]:
        """The tags of the scalable target `arn`, kept by ARN next to moto's targets."""
        backend = response.applicationautoscaling_backend
        if not any(target.arn == arn
                   for targets in backend.targets.values() for target in targets.values()):
            raise JsonRESTError("ResourceNotFoundException", f"No scalable target found for {arn}")
        if not hasattr(backend, "ops_emulator_tags"):
            backend.ops_emulator_tags = {}
        return backend.ops_emulator_tags.setdefault(arn, {})

    def register_scalable_target(register):
        def wrapper(self):
            body = register(self)
            arn = json.loads(body)["ScalableTargetARN"]
            tags_of(self, arn).update(self._get_param("Tags") or {})
            return body
        return wrapper

    def tag_resource(self):
        tags_of(self, self._get_param("ResourceARN")).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self):
        tags = tags_of(self, self._get_param("ResourceARN"))
        for key in self._get_param("TagKeys") or []:
            tags.pop(key, None)
        return "{}"

    def list_tags_for_resource(self):
        return json.dumps({"Tags": tags_of(self, self._get_param("ResourceARN"))})

    # aws_appautoscaling_target creates with Tags (default_tags) then reads them back.
    wrap(Response, "register_scalable_target", register_scalable_target)
    # aws_appautoscaling_target update: tags_all changes.
    Response.tag_resource = tag_resource
    Response.untag_resource = untag_resource
    # aws_appautoscaling_target read of tags/tags_all (moto lacked it: the provider retried it
    # for many minutes, so apply seemed to hang).
    Response.list_tags_for_resource = list_tags_for_resource
