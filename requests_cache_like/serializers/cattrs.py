"""requests-cache's ``serializers.cattrs`` module: :class:`CattrStage`."""

from .cattrs_stage import CattrStage

__all__ = ["CattrStage"]
