"""ImageRepositoryProps (constructs_lib/image_repository.py)."""

from __future__ import annotations

from dataclasses import dataclass

from . import require, require_range


@dataclass(frozen=True)
class ImageRepositoryProps:
    name: str  # the ECR repository's name
    # Each environment's prefix of released images' tags (what it runs and rolls back to), the
    # one delivered last first: each keeps its own last keep_released_images, apart from the
    # others' and from the images never released.
    release_tag_prefixes: tuple[str, ...]
    keep_images: int = 30  # @default 30: images kept besides released ones
    keep_released_images: int = 100  # @default 100: released images kept per environment

    def __post_init__(self) -> None:
        object.__setattr__(self, "release_tag_prefixes", tuple(self.release_tag_prefixes))
        require(bool(self.release_tag_prefixes)
                and len(set(self.release_tag_prefixes)) == len(self.release_tag_prefixes),
                self, "release_tag_prefixes", "one or more, each once (ECR's rules need distinct "
                "tag prefixes)")
        require_range(self, "keep_images", 1, 1000)
        require_range(self, "keep_released_images", 1, 1000)
