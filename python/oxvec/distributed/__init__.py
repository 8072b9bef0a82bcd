"""oxvec.distributed: a VectorStore sharded and replicated across Ray actors
(docs/distributed.md).

    import ray, oxvec.distributed as od
    od.init_local()                                  # or ray.init(address=...)
    store = od.ShardedStore("films", shards=2, replicas=2, dim=384, root="/data/oxvec")
    store.add(ids, vectors, documents=texts, metadatas=metas)
    store.search(query, k=10, filter={"year": {"$gte": 2000}})

Each replica of each shard is a Ray actor owning a durable VectorStore in its
own directory; the ShardedStore object is the coordinator. Needs the extra:
``pip install "oxvec[ray]"``. ``import oxvec`` never imports Ray.
"""

try:
    import ray  # noqa: F401
    import ray.data  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        f'oxvec.distributed needs Ray with its data component ({e}): pip install "oxvec[ray]"') from e

from ._cluster import init_local
from ._errors import DistributedError, ShardUnavailableError, WriteQuorumError
from ._placement import shard_of
from ._sharded import ShardedStore

__all__ = ["DistributedError", "ShardUnavailableError", "ShardedStore", "WriteQuorumError", "init_local", "shard_of"]
