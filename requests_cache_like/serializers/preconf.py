"""requests-cache's ``serializers.preconf`` module: the preconfigured serializers by name."""

from .cattrs_stage import CattrStage
from .pipeline import safe_pickle_serializer
from .stages import SignerStage

from . import (  # isort: skip
    dict_serializer,
    json_serializer,
    pickle_serializer,
    utf8_encoder,
    utf8_serializer,
    yaml_serializer,
)

#: The stage every pipeline starts with: a response to plain data.
base_stage = CattrStage()


def signer_stage(secret_key: str | bytes, salt: str = "requests-cache-like") -> SignerStage:
    """Return a stage that signs entries with ``secret_key`` (extra: security)."""
    return SignerStage(secret_key, salt=salt)


__all__ = [
    "base_stage",
    "dict_serializer",
    "json_serializer",
    "pickle_serializer",
    "safe_pickle_serializer",
    "signer_stage",
    "utf8_encoder",
    "utf8_serializer",
    "yaml_serializer",
]
