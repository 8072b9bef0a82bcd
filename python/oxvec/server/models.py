"""The JSON shapes of the REST API (pydantic): what requests may carry and
what responses hold, the source of /openapi.json."""

from __future__ import annotations

from . import _deps  # noqa: F401 - first: a missing extra names its pip command

from typing import Any, Dict, List, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
Include = Literal["documents", "metadatas", "embeddings"]
Scalar = Union[str, int, float, bool, None]
Meta = Optional[Dict[str, Any]]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """An error (RFC 9457 problem details)."""

    type: str
    title: str
    status: int
    detail: str
    error: str = Field(description="the oxvec error class, e.g. NotFoundError")
    limit: Optional[str] = None
    use: Optional[int] = None
    limit_value: Optional[int] = None
    retry_after: Optional[float] = None
    errors: Optional[List[Any]] = None


class QuotaIn(Strict):
    max_vectors: int = Field(0, ge=0)
    max_storage_bytes: int = Field(0, ge=0)
    max_index_bytes: int = Field(0, ge=0)
    max_qps: float = Field(0.0, ge=0)
    burst: int = Field(0, ge=0)


class PolicyIn(Strict):
    min_dim: int = Field(0, ge=0)
    max_dim: int = Field(0, ge=0)
    max_magnitude: float = Field(0.0, ge=0)
    metrics: List[str] = []


class TenantIn(Strict):
    name: str = Field(pattern=NAME)
    quota: Optional[QuotaIn] = None
    policy: Optional[PolicyIn] = None


class Tenant(BaseModel):
    name: str
    quota: Dict[str, Any] = {}
    policy: Dict[str, Any] = {}
    roles: Optional[Dict[str, List[str]]] = None
    collections: int = 0
    usage: Dict[str, Any] = {}


class KeyIn(Strict):
    tenant: Optional[str] = Field(None, pattern=NAME, description="operator keys: the tenant (none: an operator key)")
    role: str = Field("reader", pattern=NAME)
    name: Optional[str] = Field(None, pattern=NAME)
    max_qps: Optional[float] = Field(None, ge=0)
    burst: Optional[int] = Field(None, ge=0)
    expires_at: Optional[float] = Field(None, gt=0, lt=1e11, description="unix seconds")


class Key(BaseModel):
    id: str
    name: str
    role: str
    tenant: Optional[str] = None
    created_ns: int = 0
    expires_ns: Optional[int] = None
    revoked: Optional[bool] = None
    max_qps: Optional[float] = None
    burst: Optional[int] = None


class NewKey(Key):
    key: str = Field(description="the secret: shown only now")


class CollectionIn(Strict):
    name: str = Field(pattern=NAME)
    dim: int = Field(ge=1, le=65536)
    metric: str = "l2"
    index: Union[str, Dict[str, Any]] = Field("flat", description='"flat", "hnsw", ... or a spec {"type": "hnsw", "m": 16}')
    train_after: Optional[int] = Field(None, ge=1)
    tenant: Optional[str] = Field(None, pattern=NAME, description="operator keys only")


class CollectionOut(BaseModel):
    name: str
    dim: int
    metric: str
    index: Any = None
    count: int
    stats: Optional[Dict[str, Any]] = None


class Records(Strict):
    """A write: ids and, per id, an embedding, a document and metadata.
    With a binary body the embeddings are the body and this is the JSON
    part (X-Oxvec-Request)."""

    ids: List[str] = Field(max_length=1_000_000)
    embeddings: Optional[List[List[float]]] = None
    documents: Optional[List[Optional[str]]] = None
    metadatas: Optional[List[Meta]] = None


class Written(BaseModel):
    written: int


class GetIn(Strict):
    ids: Optional[List[str]] = None
    filter: Optional[Dict[str, Any]] = Field(None, description="metadata filter (Chroma's where)")
    where_document: Optional[Dict[str, Any]] = None
    limit: Optional[int] = Field(None, ge=0)
    offset: Optional[int] = Field(None, ge=0)
    include: List[Include] = ["documents", "metadatas"]


class RowsOut(BaseModel):
    ids: List[str]
    documents: Optional[List[Optional[str]]] = None
    metadatas: Optional[List[Meta]] = None
    embeddings: Optional[List[List[float]]] = None


class DeleteIn(Strict):
    ids: Optional[List[str]] = None
    filter: Optional[Dict[str, Any]] = Field(None, description="{} deletes every record")
    where_document: Optional[Dict[str, Any]] = None


class Deleted(BaseModel):
    deleted: int


class Count(BaseModel):
    count: int


class SearchIn(Strict):
    """A search: query vectors (JSON here, or the binary body), texts, or
    both (hybrid); one result list per query."""

    vectors: Optional[List[List[float]]] = None
    texts: Optional[List[str]] = None
    k: int = Field(10, ge=1, le=10_000)
    mode: Optional[Literal["vector", "keyword", "hybrid"]] = None
    filter: Optional[Dict[str, Any]] = None
    where_document: Optional[Dict[str, Any]] = None
    include: List[Include] = ["documents", "metadatas"]
    ef: Optional[int] = Field(None, ge=1, le=100_000)
    fusion: Literal["rrf", "convex"] = "rrf"
    alpha: float = Field(0.5, ge=0, le=1)
    rrf_k: float = Field(60, gt=0, le=1e6)
    weights: List[float] = Field([1.0, 1.0], min_length=2, max_length=2)
    normalize: Literal["minmax", "zscore"] = "minmax"
    k1: float = Field(1.2, ge=0, le=100)
    b: float = Field(0.75, ge=0, le=1)
    candidates: Optional[int] = Field(None, ge=1, le=100_000)
    mmr: Optional[Dict[str, Any]] = Field(None, description='{"fetch_k": 50, "lambda": 0.5}')


class Hits(BaseModel):
    ids: List[List[str]]
    distances: List[List[Optional[float]]]
    scores: Optional[List[List[float]]] = None
    keyword_scores: Optional[List[List[Optional[float]]]] = None
    documents: Optional[List[List[Optional[str]]]] = None
    metadatas: Optional[List[List[Meta]]] = None
    embeddings: Optional[List[List[List[float]]]] = None


class BackupIn(Strict):
    incremental: bool = True


class BackupOut(BaseModel):
    copied: int
    kept: int
    last_seq: int
    dir: str


class Ok(BaseModel):
    ok: bool = True
