"""The version of record (an SSM parameter the app stack reads for its image), its history, and
the images in the environment's repository it names."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Callable

from botocore.exceptions import ClientError

from config import RELEASE_TAG_PREFIX
from ops.errors import Refused
from ops.release.target import DIGEST, TAG, Image, Target, error_code


# Description prefix of a version of record written back after a refused or failed release:
# the value before it never ran, so rollback skips it.
RESTORE = "restore:"

# The manifests a retag accepts (Docker v2 and OCI, single images and indexes).
MANIFEST_TYPES = ["application/vnd.docker.distribution.manifest.v2+json",
                  "application/vnd.docker.distribution.manifest.list.v2+json",
                  "application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.oci.image.index.v1+json"]


def require_repository(target: Target) -> str:
    repository = target.names.repository
    if repository is None:
        raise Refused(
            f"{target.label}: runs the public image {target.environment.service.image!r} and has "
            "no ECR repository to release from; set service.ecr_repository = true (or "
            f"ecr_repository_owner) in environments/{target.name}.toml")
    return repository


def find_image(target: Target, version: str) -> Image:
    """`version` (a tag or sha256:digest) in the environment's repository."""
    repository = require_repository(target)
    if not (TAG.match(version) or DIGEST.match(version)):
        raise Refused(f"--version {version!r}: not an image tag or sha256:<64 hex digits>")
    ecr = target.client("ecr")
    image_id = {"imageDigest": version} if version.startswith("sha256:") else \
        {"imageTag": version}
    try:
        (detail,) = ecr.describe_images(repositoryName=repository,
                                        imageIds=[image_id])["imageDetails"]
        (found,) = ecr.describe_repositories(repositoryNames=[repository])["repositories"]
    except ClientError as error:
        if error_code(error) == "ImageNotFoundException":
            raise Refused(f"{target.label}: version {version!r} is not in ECR repository "
                          f"{repository}; push it first (python -m ops image "
                          f"{target.flags})") from None
        if error_code(error) == "RepositoryNotFoundException":
            owner = target.environment.service.ecr_repository_owner or target.name
            raise Refused(f"{target.label}: ECR repository {repository} does not exist; {owner}'s "
                          f"state stack creates it: python -m ops up --env {owner}, "
                          "then push (python -m ops image) and release again") from None
        raise
    digest = detail["imageDigest"]
    return Image(f"{found['repositoryUri']}@{digest}", digest,
                 tuple(sorted(detail.get("imageTags") or [])))


def release_tag(target: Target, when: datetime) -> str:
    return f"{RELEASE_TAG_PREFIX}{target.name}-{when.strftime('%Y%m%dT%H%M%SZ')}"


def tag_release(target: Target, image: str, say: Callable[[str], None]) -> None:
    """Tag the digest `image` names release-<env>-<UTC time>, which the repository's lifecycle
    policy keeps (constructs_lib/image_repository.py) while untagged and other images expire:
    the same manifest put again under the new tag (ECR's retagging)."""
    repository, digest = target.names.repository, image.rpartition("@")[2]
    if repository is None or not DIGEST.match(digest):
        return
    ecr = target.client("ecr")
    (found,) = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageDigest": digest}],
                                   acceptedMediaTypes=MANIFEST_TYPES)["images"]
    tag = release_tag(target, datetime.now(timezone.utc))
    try:
        ecr.put_image(repositoryName=repository, imageManifest=found["imageManifest"],
                      imageManifestMediaType=found.get("imageManifestMediaType") or
                      json.loads(found["imageManifest"]).get("mediaType", MANIFEST_TYPES[0]),
                      imageTag=tag, imageDigest=digest)
    except ClientError as error:
        if error_code(error) != "ImageAlreadyExistsException":  # released this second already
            raise
    say(f"{target.label}: tagged {digest[:19]} {tag}")


def image_of_reference(target: Target, reference: str) -> Image:
    """A version of record's value (`<repo url>@sha256:...` or `<repo url>:<tag>`) as an Image
    of the environment's repository; Refused for any other image (a public one)."""
    repository = target.names.repository
    match = re.match(r"^[^/]+/(?P<repository>[^:@]+)(?P<separator>[:@])(?P<version>.+)$",
                     reference)
    if repository is None or not match or match["repository"] != repository:
        raise Refused(f"{target.label}: its version of record {reference!r} is not an image of "
                      f"{repository or 'an ECR repository'}")
    return find_image(target, match["version"])


def version_of_record(target: Target) -> str:
    try:
        return target.client("ssm").get_parameter(
            Name=target.names.image_parameter)["Parameter"]["Value"]
    except ClientError as error:
        if error_code(error) == "ParameterNotFound":
            raise Refused(f"{target.label}: not deployed (no version of record "
                          f"{target.names.image_parameter}); deploy it first: python -m "
                          f"ops up --env {target.name}") from None
        raise


def history(target: Target) -> list[dict]:
    """The version of record's versions, oldest first."""
    pages = target.client("ssm").get_paginator("get_parameter_history").paginate(
        Name=target.names.image_parameter)
    return sorted((entry for page in pages for entry in page["Parameters"]),
                  key=lambda entry: entry["Version"])


def previous_version(versions: list[dict]) -> str | None:
    """The value before the current one that last ran: versions that a `restore:` entry
    replaced never ran (refused or rolled back) and are skipped."""
    ran = [entry for entry, following in zip(versions, versions[1:] + [None])
           if not (following and following.get("Description", "").startswith(RESTORE))]
    current = versions[-1]["Value"] if versions else None
    return next((entry["Value"] for entry in reversed(ran[:-1]) if entry["Value"] != current),
                None)


def release_entry(versions: list[dict]) -> dict | None:
    """The entry that released the current value: a `restore:` entry only puts back a value
    released earlier, so the last other entry with that value (None without history)."""
    if not versions:
        return None
    current = versions[-1]["Value"]
    return next((entry for entry in reversed(versions) if entry["Value"] == current
                 and not entry.get("Description", "").startswith(RESTORE)), versions[-1])
