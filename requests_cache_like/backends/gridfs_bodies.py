"""GridFS's body store: a ``stream=True`` body goes to bucket ``rcl_bodies`` chunk by chunk
as it arrives, and is read back one chunk at a time.

The files follow the GridFS layout (chunk documents ``{files_id, n, data}`` of
:data:`~..models.streamed.CHUNK_SIZE` bytes, then the file document), so GridFS tools read
them; each chunk is inserted when it is complete, rather than through pymongo's upload
stream, which holds up to 32 MB of chunks before inserting them. The file document is
inserted last: until then the body is invisible.
"""

from __future__ import annotations

import threading
from typing import Any

from ..models.streamed import CHUNK_SIZE, StreamedBody
from .bodies import ABANDONED_AFTER

__all__ = ["GridFSBodies"]

BUCKET = "rcl_bodies"


class GridFSBodies:
    """Bodies as files ``<key>.<version>`` of a GridFS bucket, with ``metadata.key`` and
    ``metadata.version`` for finding them."""

    def __init__(self, db: Any, bucket: str = BUCKET) -> None:
        import gridfs

        self.db = db
        self.bucket = gridfs.GridFSBucket(db, bucket_name=bucket, chunk_size_bytes=CHUNK_SIZE)
        self.files = db[f"{bucket}.files"]
        self.chunks = db[f"{bucket}.chunks"]
        self._uploads: dict[tuple[str, str], tuple[Any, int]] = {}
        self._ids: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def put_chunk(self, key: str, version: str, index: int, data: bytes) -> None:
        from bson import ObjectId

        with self._lock:
            file_id, size = self._uploads.get((key, version), (None, 0))
            if file_id is None:
                file_id = ObjectId()
            self._uploads[key, version] = (file_id, size + len(data))
        self.chunks.insert_one({"files_id": file_id, "n": index, "data": data})

    def finish(self, key: str, version: str) -> None:
        from datetime import datetime, timezone

        with self._lock:
            file_id, size = self._uploads.pop((key, version))
        self.files.insert_one(
            {
                "_id": file_id,
                "filename": f"{key}.{version}",
                "length": size,
                "chunkSize": CHUNK_SIZE,
                "uploadDate": datetime.now(timezone.utc),
                "metadata": {"key": key, "version": version},
            }
        )
        for old in self.files.find(
            {"metadata.key": key, "metadata.version": {"$ne": version}}, {"_id": True}
        ):
            self.bucket.delete(old["_id"])

    def _file_id(self, body: StreamedBody) -> Any:
        known = self._ids.get((body.key, body.version))
        if known is None:
            found = self.files.find_one({"filename": f"{body.key}.{body.version}"}, {"_id": True})
            if found is None:
                raise KeyError(body.key)
            known = self._ids[body.key, body.version] = found["_id"]
        return known

    def read_chunk(self, body: StreamedBody, index: int) -> bytes:
        chunk = self.chunks.find_one({"files_id": self._file_id(body), "n": index}, {"data": True})
        if chunk is None:
            raise KeyError(index)
        return bytes(chunk["data"])

    def complete(self, body: StreamedBody) -> bool:
        found = self.files.find_one(
            {"filename": f"{body.key}.{body.version}"}, {"_id": True, "length": True}
        )
        if found is None or found.get("length") != body.size:
            return False
        self._ids[body.key, body.version] = found["_id"]
        return bool(self.chunks.count_documents({"files_id": found["_id"]}) == body.chunks)

    def remove(self, key: str, version: str | None = None) -> None:
        if version is not None:
            with self._lock:
                upload = self._uploads.pop((key, version), None)
            if upload is not None:  # not finished: its chunks have no file document yet
                self.chunks.delete_many({"files_id": upload[0]})
        query: dict[str, Any] = {"metadata.key": key}
        if version is not None:
            query["metadata.version"] = version
        for found in self.files.find(query, {"_id": True}):
            self.bucket.delete(found["_id"])
            self._ids.pop((key, version or ""), None)

    def stored(self) -> list[tuple[str, str]]:
        return [
            (str(found["metadata"]["key"]), str(found["metadata"]["version"]))
            for found in self.files.find({}, {"metadata": True})
            if isinstance(found.get("metadata"), dict)
        ]

    def remove_many(self, bodies: list[tuple[str, str]]) -> None:
        for key, version in bodies:
            self.remove(key, version)

    def remove_abandoned(self, now: float, idle: float = ABANDONED_AFTER) -> int:
        """Remove the chunks of uploads that never got their file document (a process killed
        while writing one) and began over ``idle`` seconds ago; return how many bodies."""
        finished = {found["_id"] for found in self.files.find({}, {"_id": True})}
        removed = 0
        for file_id in self.chunks.distinct("files_id"):
            started = getattr(file_id, "generation_time", None)  # an ObjectId's creation time
            if file_id in finished or started is None or now - started.timestamp() <= idle:
                continue
            self.chunks.delete_many({"files_id": file_id})
            removed += 1
        return removed
