#!/usr/bin/env python3
"""A MongoDB-wire-compatible test server: mockupdb speaks the wire protocol, mongomock
executes the commands. No MongoDB server can be installed on the build machines, and this
lets the real Rust `mongodb` driver run against realistic split-modulestore documents.

Implemented: the handshake (hello/isMaster, answered by hand: mockupdb's automatic reply is
refused by the Rust driver), ping, buildInfo, endSessions, insert, find (filter, projection,
sort, limit, batchSize) with getMore/killCursors paging, delete, drop, dropDatabase,
listDatabases.

Like a real server, a reply batch stops before 16 MiB, and `find` refuses any document
larger than 16 MiB (BSONObjectTooLarge), so the extractor's handling of that error can be
tested. For other faults, a document in `<db>.edlake_faults` with `_id` equal to a document's
`_id` makes every `find` that would return that document fail with the fault's `code` and
`errmsg`.

Usage: mongo_server.py [--port 27017]   (listens on 127.0.0.1 only)
"""

import argparse
import datetime
import itertools
import logging
import sys
import threading

import bson
from bson.int64 import Int64
import mockupdb
import mongomock

MAX_BSON = 16 * 1024 * 1024
FIRST_BATCH_DEFAULT = 101

HELLO = {
    "ismaster": True,
    "isWritablePrimary": True,
    "helloOk": True,
    "maxWireVersion": 17,
    "minWireVersion": 0,
    "maxBsonObjectSize": MAX_BSON,
    "maxMessageSizeBytes": 48000000,
    "maxWriteBatchSize": 100000,
    "logicalSessionTimeoutMinutes": 30,
    "connectionId": 1,
}


_scan = mongomock.collection.Collection._iter_documents


def _iter_documents(self, filter):
    """mongomock scans every document for every query; the modulestore is only ever read by
    `_id` (`{_id: x}` or `{_id: {$in: [...]}}`), so answer those from the store's key map,
    in the order asked, as an index would."""
    if isinstance(filter, dict) and list(filter) == ["_id"]:
        cond = filter["_id"]
        if isinstance(cond, dict) and list(cond) == ["$in"]:
            ids = cond["$in"]
        elif not isinstance(cond, dict):
            ids = [cond]
        else:
            return _scan(self, filter)
        store = self._store
        return iter([store[i] for i in dict.fromkeys(ids) if i in store])
    return _scan(self, filter)


mongomock.collection.Collection._iter_documents = _iter_documents


class Server:
    def __init__(self):
        self.client = mongomock.MongoClient()
        self.cursors = {}
        self.cursor_ids = itertools.count(1)
        self.lock = threading.Lock()

    # -- helpers
    def collection(self, request, name):
        return self.client[request.namespace][name]

    def batch(self, docs, limit):
        """Take up to `limit` documents, stopping before a reply would pass 16 MiB."""
        out, size = [], 0
        while docs and (limit is None or len(out) < limit):
            n = len(bson.encode(docs[0]))
            if out and size + n > MAX_BSON:
                break
            out.append(docs.pop(0))
            size += n
        return out

    def fault(self, request, docs):
        faults = self.client[request.namespace]["edlake_faults"]
        for d in docs:
            if "_id" in d:
                f = faults.find_one({"_id": d["_id"]})
                if f:
                    return f
            if len(bson.encode(d)) > MAX_BSON:
                return {"code": 10334, "codeName": "BSONObjectTooLarge",
                        "errmsg": "BSONObj size: %d is invalid. Size must be between 0 and 16793600(16MB)"
                                  % len(bson.encode(d))}
        return None

    # -- commands
    def handle(self, request):
        name = (request.command_name or "").lower()
        doc = request.doc
        # Heartbeats never wait for a long query: a real server answers them at once, and a
        # driver drops its connections when they time out.
        if name in ("ismaster", "hello"):
            reply = dict(HELLO)
            reply["localTime"] = datetime.datetime.now(datetime.timezone.utc)
            return request.replies(reply)
        if name in ("ping", "endsessions"):
            return request.replies({"ok": 1})
        with self.lock:
            if name == "buildinfo":
                return request.replies({"version": "6.0.0-mockupdb", "versionArray": [6, 0, 0, 0]})
            if name == "listdatabases":
                return request.replies({"databases": [{"name": n, "sizeOnDisk": 0, "empty": False}
                                                      for n in self.client.list_database_names()],
                                        "totalSize": 0})
            if name == "insert":
                docs = doc.get("documents", [])
                if docs:
                    self.collection(request, doc["insert"]).insert_many(docs)
                return request.replies({"n": len(docs)})
            if name == "delete":
                coll = self.collection(request, doc["delete"])
                n = 0
                for d in doc.get("deletes", []):
                    n += coll.delete_many(d.get("q", {})).deleted_count
                return request.replies({"n": n})
            if name == "drop":
                self.collection(request, doc["drop"]).drop()
                return request.replies({"ok": 1})
            if name == "dropdatabase":
                self.client.drop_database(request.namespace)
                return request.replies({"ok": 1})
            if name == "find":
                return self.find(request, doc)
            if name == "getmore":
                return self.get_more(request, doc)
            if name == "killcursors":
                for cid in doc.get("cursors", []):
                    self.cursors.pop(int(cid), None)
                return request.replies({"cursorsKilled": doc.get("cursors", [])})
            return request.command_err(code=59, errmsg="no such command: '%s'" % request.command_name)

    def find(self, request, doc):
        coll_name = doc["find"]
        cursor = self.collection(request, coll_name).find(doc.get("filter") or {}, doc.get("projection"))
        if doc.get("sort"):
            cursor = cursor.sort(list(doc["sort"].items()))
        if doc.get("limit"):
            cursor = cursor.limit(int(doc["limit"]))
        docs = list(cursor)
        fault = self.fault(request, docs)
        if fault:
            return request.command_err(code=int(fault.get("code", 1)), errmsg=fault.get("errmsg", "fault"),
                                       codeName=fault.get("codeName", "InternalError"))
        ns = "%s.%s" % (request.namespace, coll_name)
        size = doc.get("batchSize")
        first = self.batch(docs, int(size) if size is not None else FIRST_BATCH_DEFAULT)
        cid = 0
        if docs and not doc.get("singleBatch"):
            cid = next(self.cursor_ids)
            self.cursors[cid] = (ns, docs)
        return request.replies({"cursor": {"id": Int64(cid), "ns": ns, "firstBatch": first}})

    def get_more(self, request, doc):
        cid = int(doc["getMore"])
        if cid not in self.cursors:
            return request.command_err(code=43, errmsg="cursor id %d not found" % cid, codeName="CursorNotFound")
        ns, docs = self.cursors[cid]
        size = doc.get("batchSize")
        batch = self.batch(docs, int(size) if size else None)
        if not docs:
            del self.cursors[cid]
            cid = 0
        return request.replies({"cursor": {"id": Int64(cid), "ns": ns, "nextBatch": batch}})


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=27017)
    args = p.parse_args()
    # mockupdb logs a harmless traceback whenever a client disconnects.
    logging.getLogger("mockupdb").setLevel(logging.CRITICAL)
    server = Server()
    mock = mockupdb.MockupDB(port=args.port, auto_ismaster=False, request_timeout=3600)
    mock.autoresponds(server.handle)
    mock._address = ("127.0.0.1", args.port)
    port = mock.run()
    print("mongo wire server on 127.0.0.1:%d" % port, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        mock.stop()


if __name__ == "__main__":
    sys.exit(main())
