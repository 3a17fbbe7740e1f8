"""DynamoDB backend: a shared, serverless cache.

One table holds responses and redirects, told apart by the partition key ``namespace``; the
sort key is the cache key. Items carry a ``ttl`` attribute (HTTP expiry + ``ttl_offset``)
for DynamoDB's own expiry; since DynamoDB deletes expired items late, reads also ignore
items whose ``ttl`` has passed.

requests-cache 1.x names its table ``http_cache`` too, with the partition key ``key`` alone:
such a table is left as it is, and this cache uses ``rcl_<table_name>`` beside it.

DynamoDB refuses items over 400 KB. A larger entry is compressed, and if still too large,
split into parts written in one transaction together with the item that lists them, so a
reader sees all of a new version or all of the old one. An entry too large even for that
(a transaction is limited to 100 items and 4 MB) is refused with
:class:`EntryTooLargeError`, never silently dropped.
"""

from __future__ import annotations

import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..exceptions import EntryTooLargeError, StorageError
from ..serializers import init_serializer
from ._dynamodb_client import _VALUE_FIELDS as _VALUE_FIELDS
from ._dynamodb_client import _TypedCalls, own_table
from ._dynamodb_client import make_client as make_client
from ._util import import_client, reuse_or_connect, storage_errors, ttl_seconds
from .base import BaseCache, BaseStorage

if TYPE_CHECKING:
    from ..serializers.pipeline import SerializerType, StageLike

__all__ = ["DynamoDbCache", "DynamoDbDict", "EntryTooLargeError"]

DEFAULT_TABLE_NAME = "http_cache"
DEFAULT_TTL_OFFSET = 3600
#: Largest value kept inline in one item (DynamoDB's limit is 400 KB including names).
INLINE_LIMIT = 350_000
#: A transaction may hold 100 items and 4 MB in all.
MAX_PARTS = 99
MAX_TRANSACTION_BYTES = 3_900_000
_PART = "#part#"


class DynamoDbDict(BaseStorage):
    """The items of one ``namespace`` in a DynamoDB table."""

    def __init__(
        self,
        table_name: str = DEFAULT_TABLE_NAME,
        namespace: str = "responses",
        connection: Any = None,
        serializer: SerializerType | StageLike = None,
        ttl: bool = True,
        ttl_offset: int = DEFAULT_TTL_OFFSET,
        create_table: bool = True,
        endpoint_url: str | None = None,
        **boto3_kwargs: Any,
    ) -> None:
        super().__init__(serializer=serializer)
        botocore = import_client("botocore.exceptions", "dynamodb", "dynamodb")
        self._errors = (botocore.ClientError, botocore.BotoCoreError)
        if connection is None:
            connection = make_client(endpoint_url, **boto3_kwargs)
        # Accept a resource (requests-cache style) as well as a client.
        resource_client = getattr(getattr(connection, "meta", None), "client", None)
        self.client = _TypedCalls(resource_client) if resource_client is not None else connection
        self.namespace = namespace
        self.ttl = ttl
        self.ttl_offset = ttl_offset
        self._requested_table = table_name
        self._create = create_table
        self._table: str | None = None
        if create_table:
            _ = self.table_name  # made now, as requests-cache does

    @property
    def table_name(self) -> str:
        """The table the items are in: ``table_name``, or ``rcl_{table_name}`` beside a
        table of another key schema (see :func:`own_table`). Without ``create_table``, it
        is decided on first use, so a cache can be made while DynamoDB is out of reach."""
        if self._table is None:
            with self._errors_as_storage():
                self._table = own_table(self.client, self._requested_table, self._create, self.ttl)
        return self._table

    @contextmanager
    def _errors_as_storage(self) -> Iterator[None]:
        try:
            with storage_errors("dynamodb", self._errors):
                yield
        except StorageError as exc:
            response = getattr(exc.__cause__, "response", None) or {}
            if response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            raise StorageError(
                f"DynamoDB table {self._table or self._requested_table!r} does not exist: "
                f"create it, or pass create_table=True ({exc})"
            ) from exc.__cause__

    def _key(self, key: str) -> dict[str, Any]:
        return {"namespace": {"S": self.namespace}, "key": {"S": key}}

    @staticmethod
    def _is_live(item: dict[str, Any], now: float) -> bool:
        ttl = item.get("ttl")
        return ttl is None or float(ttl["N"]) > now

    def get_raw(self, key: str) -> Any:
        with self._errors_as_storage():
            item = self.client.get_item(
                TableName=self.table_name, Key=self._key(key), ConsistentRead=True
            ).get("Item")
            if item is None or not self._is_live(item, time.time()):
                raise KeyError(key)
            if "parts" in item:
                data = self._read_parts(key, item)
            elif "value" in item:
                data = item["value"]["B"] if "B" in item["value"] else item["value"]["S"]
            else:
                raise KeyError(key)
        if "compressed" in item:
            try:
                data = zlib.decompress(data)
            except zlib.error:
                pass  # damaged: given back as stored, its seal's check makes it a miss
        return data

    def _read_parts(self, key: str, item: dict[str, Any]) -> bytes:
        count = int(item["parts"]["N"])
        version = item["version"]["S"]
        chunks: dict[int, bytes] = {}
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            ConsistentRead=True,
            KeyConditionExpression="#ns = :ns AND begins_with(#k, :prefix)",
            ExpressionAttributeNames={"#ns": "namespace", "#k": "key"},
            ExpressionAttributeValues={":ns": {"S": self.namespace}, ":prefix": {"S": key + _PART}},
        ):
            for part in page["Items"]:
                if part.get("version", {}).get("S") == version:
                    index = int(part["key"]["S"].rsplit(_PART, 1)[1])
                    chunks[index] = part["value"]["B"]
        if len(chunks) != count:
            raise KeyError(key)  # parts of this version are missing: treat as absent
        return b"".join(chunks[i] for i in range(count))

    def set_raw(
        self,
        key: str,
        value: Any,
        expires: datetime | None = None,
        created_at: datetime | None = None,
        size: int = 0,
    ) -> None:
        item: dict[str, Any] = self._key(key)
        seconds = ttl_seconds(expires, self.ttl_offset) if self.ttl else None
        if seconds is not None:
            item["ttl"] = {"N": str(int(time.time()) + seconds)}
        if isinstance(value, str):
            item["value"] = {"S": value}
            with self._errors_as_storage():
                self.client.put_item(TableName=self.table_name, Item=item)
            return
        data = bytes(value or b"")  # None (from a custom serializer) is stored as empty
        # The bookkeeping of size limits: the entry's size (before compression), last use.
        item["stored_size"] = {"N": str(len(data))}
        item["access_time"] = {"N": repr(time.time())}
        if len(data) > INLINE_LIMIT:
            compressed = zlib.compress(data, 6)
            if len(compressed) < len(data):
                data = compressed
                item["compressed"] = {"BOOL": True}
        if len(data) <= INLINE_LIMIT:
            item["value"] = {"B": data}
            with self._errors_as_storage():
                previous = self.client.put_item(
                    TableName=self.table_name, Item=item, ReturnValues="ALL_OLD"
                ).get("Attributes")
                # Only an entry that was split leaves parts behind to remove.
                if previous and "parts" in previous:
                    self._delete_parts(key, keep_version=None)
                if previous and int(previous.get("hits", {}).get("N", 0)):
                    self._keep_hits(key, previous["hits"])
            return
        self._write_parts(key, item, data)

    def _keep_hits(self, key: str, hits: dict[str, str]) -> None:
        """Give a rewritten item the number of uses of the one it replaced."""
        self.client.update_item(
            TableName=self.table_name,
            Key=self._key(key),
            UpdateExpression="ADD hits :n",
            ExpressionAttributeValues={":n": hits},
        )

    def _write_parts(self, key: str, item: dict[str, Any], data: bytes) -> None:
        chunks = [data[i : i + INLINE_LIMIT] for i in range(0, len(data), INLINE_LIMIT)]
        if len(chunks) > MAX_PARTS or len(data) > MAX_TRANSACTION_BYTES:
            raise EntryTooLargeError(
                f"entry {key!r} is {len(data)} bytes after compression; DynamoDB can store at "
                f"most {MAX_TRANSACTION_BYTES} bytes per entry (in {MAX_PARTS} parts)"
            )
        version = uuid.uuid4().hex
        item["parts"] = {"N": str(len(chunks))}
        item["version"] = {"S": version}
        writes = [{"Put": {"TableName": self.table_name, "Item": item}}]
        for index, chunk in enumerate(chunks):
            part = self._key(f"{key}{_PART}{index:04d}")
            part["value"] = {"B": chunk}
            part["version"] = {"S": version}
            if "ttl" in item:
                part["ttl"] = item["ttl"]
            writes.append({"Put": {"TableName": self.table_name, "Item": part}})
        with self._errors_as_storage():
            self.client.transact_write_items(TransactItems=writes)
            self._delete_parts(key, keep_version=version)

    def _part_keys(self, key: str, keep_version: str | None = None) -> list[str]:
        keys: list[str] = []
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            KeyConditionExpression="#ns = :ns AND begins_with(#k, :prefix)",
            ExpressionAttributeNames={"#ns": "namespace", "#k": "key", "#v": "version"},
            ExpressionAttributeValues={":ns": {"S": self.namespace}, ":prefix": {"S": key + _PART}},
            ProjectionExpression="#k, #v",
        ):
            for part in page["Items"]:
                if keep_version is None or part.get("version", {}).get("S") != keep_version:
                    keys.append(part["key"]["S"])
        return keys

    def _delete_parts(self, key: str, keep_version: str | None) -> None:
        self._batch_delete(self._part_keys(key, keep_version))

    def _batch_delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 25):
            requests = [{"DeleteRequest": {"Key": self._key(k)}} for k in keys[start : start + 25]]
            pending: dict[str, Any] = {self.table_name: requests}
            for _attempt in range(8):  # bounded retries of throttled deletes
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if not pending:
                    break

    def __delitem__(self, key: str) -> None:
        with self._errors_as_storage():
            response = self.client.delete_item(
                TableName=self.table_name, Key=self._key(key), ReturnValues="ALL_OLD"
            )
            self._delete_parts(key, keep_version=None)
        if "Attributes" not in response:
            raise KeyError(key)

    def _all_keys(self, include_parts: bool) -> list[str]:
        now = time.time()
        keys: list[str] = []
        with self._errors_as_storage():
            paginator = self.client.get_paginator("query")
            for page in paginator.paginate(
                TableName=self.table_name,
                KeyConditionExpression="#ns = :ns",
                ExpressionAttributeNames={"#ns": "namespace", "#k": "key", "#t": "ttl"},
                ExpressionAttributeValues={":ns": {"S": self.namespace}},
                ProjectionExpression="#k, #t",
            ):
                for item in page["Items"]:
                    name = item["key"]["S"]
                    if include_parts or (_PART not in name and self._is_live(item, now)):
                        keys.append(name)
        return keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._all_keys(include_parts=False))

    def __len__(self) -> int:
        return len(self._all_keys(include_parts=False))

    def bulk_delete(self, keys: Iterable[str]) -> None:
        with self._errors_as_storage():
            doomed = list(dict.fromkeys(keys))  # a batch may not name a key twice
            parts = [p for k in doomed for p in self._part_keys(k)]
            self._batch_delete(doomed + parts)

    def clear(self) -> None:
        keys = self._all_keys(include_parts=True)
        with self._errors_as_storage():
            self._batch_delete(keys)


class DynamoDbCache(BaseCache):
    """DynamoDB cache backend: responses and redirects in one table.

    :param table_name: Table name (created if missing and ``create_table`` is True).
    :param ttl: Give items a ``ttl`` attribute and enable DynamoDB's expiry on it.
    :param ttl_offset: Seconds to keep a stale response for revalidation (default 3600).
    :param connection: An existing boto3 DynamoDB client or resource.
    :param endpoint_url: Endpoint for DynamoDB-compatible services (DynamoDB Local, moto).
    :param boto3_kwargs: Passed to ``boto3.client("dynamodb", ...)`` (``region_name``,
        credentials ...).
    """

    def __init__(
        self,
        table_name: str = DEFAULT_TABLE_NAME,
        create_table: bool = True,
        ttl: bool = True,
        connection: Any = None,
        endpoint_url: str | None = None,
        serializer: SerializerType | StageLike = None,
        ttl_offset: int = DEFAULT_TTL_OFFSET,
        **boto3_kwargs: Any,
    ) -> None:
        super().__init__(cache_name=table_name)
        connection = reuse_or_connect(
            "DynamoDbCache",
            connection,
            {**boto3_kwargs, "endpoint_url": endpoint_url},
            lambda: make_client(endpoint_url, **boto3_kwargs),
        )
        self.connection = connection
        self.responses: DynamoDbDict = DynamoDbDict(
            table_name,
            "responses",
            connection=connection,
            serializer=init_serializer(serializer),
            ttl=ttl,
            ttl_offset=ttl_offset,
            create_table=create_table,
        )
        self.redirects: DynamoDbDict = DynamoDbDict(
            table_name,
            "redirects",
            connection=connection,
            ttl=False,
            create_table=False,
        )
