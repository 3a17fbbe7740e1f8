"""The boto3 client of the DynamoDB backend: :func:`make_client`, which creates one, and
``_TypedCalls``, which lets a boto3 resource's client (requests-cache style) be used like a
plain client working with DynamoDB's typed values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._util import import_client

__all__ = ["make_client"]


#: Response and request fields that hold attribute values (or maps or lists of them).
_VALUE_FIELDS = frozenset(
    (
        "Key",
        "Item",
        "Items",
        "Attributes",
        "ExpressionAttributeValues",
        "LastEvaluatedKey",
        "ExclusiveStartKey",
        "Keys",
    )
)


class _TypedCalls:
    """A boto3 resource's client, used as a plain client.

    A resource's client converts Python values to DynamoDB's typed values (``{"S": ...}``)
    on every call and back on every answer; this backend works with typed values, so this
    wrapper converts them to Python values on the way in and back on the way out.
    """

    def __init__(self, client: Any) -> None:
        types = import_client("boto3.dynamodb.types", "dynamodb", "dynamodb")
        self._client = client
        self._to_python = types.TypeDeserializer().deserialize
        self._to_typed = types.TypeSerializer().serialize

    def _convert(self, value: Any, convert: Any, inside: bool = False) -> Any:
        if isinstance(value, dict):
            if inside:  # a map of attribute name -> attribute value
                return {name: convert(item) for name, item in value.items()}
            return {
                key: self._convert(item, convert, key in _VALUE_FIELDS)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self._convert(item, convert, inside) for item in value]
        return value

    def _call(self, method: Any) -> Any:
        def call(**params: Any) -> Any:
            answer = method(**self._convert(params, self._to_python))
            return self._convert(answer, self._to_typed)

        return call

    def get_paginator(self, operation: str) -> Any:
        paginator = self._client.get_paginator(operation)
        typed = self

        class _Paginator:
            def paginate(self, **params: Any) -> Iterator[Any]:
                for page in paginator.paginate(**typed._convert(params, typed._to_python)):
                    yield typed._convert(page, typed._to_typed)

        return _Paginator()

    def get_waiter(self, name: str) -> Any:
        return self._client.get_waiter(name)

    def __getattr__(self, name: str) -> Any:
        return self._call(getattr(self._client, name))


def make_client(endpoint_url: str | None = None, **boto3_kwargs: Any) -> Any:
    """Return a boto3 DynamoDB client."""
    boto3 = import_client("boto3", "dynamodb", "dynamodb")
    return boto3.client("dynamodb", endpoint_url=endpoint_url, **boto3_kwargs)
