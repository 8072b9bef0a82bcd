"""Errors of a sharded store. They derive from oxvec.Error, so code that
catches oxvec's errors catches these too."""

from __future__ import annotations

from .._errors import Error


class DistributedError(Error, RuntimeError):
    """Base class of the errors of oxvec.distributed."""


class ShardUnavailableError(DistributedError):
    """No replica of a shard could serve the call before the deadline: every
    replica is down, or behind with no live replica to catch up from. The
    message lists each replica's state and last error."""


class WriteQuorumError(DistributedError):
    """A write reached fewer replicas than the write quorum before the
    deadline. ``applied`` says whether some replica holds it: then it is not
    lost, and spreads to the others as they catch up, but it was not
    acknowledged as durable on a quorum."""

    applied: bool = False

    def __init__(self, message: str = "", applied: bool = False) -> None:
        super().__init__(message)
        self.applied = applied

    def __reduce__(self):
        return (type(self), (str(self), self.applied))
