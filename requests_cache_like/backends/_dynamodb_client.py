"""The boto3 client of the DynamoDB backend: :func:`make_client`, which creates one,
``_TypedCalls``, which lets a boto3 resource's client (requests-cache style) be used like a
plain client working with DynamoDB's typed values, and :func:`own_table`, which chooses (and
creates) the table the items are kept in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from ..exceptions import StorageError
from ._util import import_client

__all__ = ["create_table", "make_client", "own_table"]

logger = logging.getLogger(__name__)

#: This package's key schema: partition key ``namespace``, sort key ``key``.
#: requests-cache 1.x's tables have the partition key ``key`` alone.
KEY_SCHEMA = {"namespace": "HASH", "key": "RANGE"}


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


def _error_code(exc: BaseException) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def key_schema(client: Any, table: str) -> dict[str, str] | None:
    """Return ``table``'s key schema (attribute name -> key type), None when there is no
    such table, or ``KEY_SCHEMA`` when DynamoDB does not let this client look (no
    ``DescribeTable`` permission: the table is taken to be this package's, as before)."""
    client_error = import_client("botocore.exceptions", "dynamodb", "dynamodb").ClientError
    try:
        description = client.describe_table(TableName=table)["Table"]
    except client_error as exc:
        code = _error_code(exc)
        if code == "ResourceNotFoundException":
            return None
        if code == "AccessDeniedException":
            logger.debug("DynamoDB table %r: cannot describe it (%s); using it as is", table, code)
            return dict(KEY_SCHEMA)
        raise
    return {k["AttributeName"]: k["KeyType"] for k in description["KeySchema"]}


def own_table(client: Any, name: str, create: bool, ttl: bool) -> str:
    """Return the table this cache keeps its items in, created first when ``create``.

    ``name`` itself when it is absent or has this package's key schema. When it has another
    (requests-cache names its table ``http_cache`` too, with the partition key ``key`` alone),
    it is left exactly as it is, for the program that made it, and ``rcl_{name}`` is used.
    """
    schema = key_schema(client, name)
    if schema is None or schema == KEY_SCHEMA:
        chosen = name
    else:
        chosen = f"rcl_{name}"
        schema = key_schema(client, chosen)
        if schema is not None and schema != KEY_SCHEMA:
            raise StorageError(
                f"DynamoDB tables {name!r} and {chosen!r} both have another key schema than "
                f"this cache's (namespace, key): choose another table_name"
            )
        logger.info(
            "DynamoDB table %r has another key schema (requests-cache's?): left as it is; "
            "this cache's items are in %r",
            name,
            chosen,
        )
    if create and schema is None:
        create_table(client, chosen, ttl)
    return chosen


def create_table(client: Any, table: str, ttl: bool) -> None:
    """Create ``table`` with this package's key schema (and DynamoDB's expiry on ``ttl``),
    unless another process has just created it."""
    client_error = import_client("botocore.exceptions", "dynamodb", "dynamodb").ClientError
    try:
        client.create_table(
            TableName=table,
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"} for name in KEY_SCHEMA
            ],
            KeySchema=[{"AttributeName": n, "KeyType": t} for n, t in KEY_SCHEMA.items()],
            BillingMode="PAY_PER_REQUEST",
        )
    except client_error as exc:
        if _error_code(exc) != "ResourceInUseException":  # another process created it first
            raise
    client.get_waiter("table_exists").wait(TableName=table)
    if ttl:
        try:
            client.update_time_to_live(
                TableName=table,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"},
            )
        except client_error:
            pass  # already enabled, or not permitted: reads filter expired items anyway
