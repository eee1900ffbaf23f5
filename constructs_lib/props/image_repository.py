"""ImageRepositoryProps (constructs_lib/image_repository.py)."""

from __future__ import annotations

from dataclasses import dataclass

from . import require_range


@dataclass(frozen=True)
class ImageRepositoryProps:
    name: str  # the ECR repository's name
    # Images tagged with this prefix are released ones (what environments run and roll back
    # to): they are kept apart from the others.
    release_tag_prefix: str
    keep_images: int = 30  # @default 30: images kept besides released ones
    keep_released_images: int = 100  # @default 100: released images kept

    def __post_init__(self) -> None:
        require_range(self, "keep_images", 1, 1000)
        require_range(self, "keep_released_images", 1, 1000)
