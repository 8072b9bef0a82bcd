"""What the coordinator knows of one replica of one shard."""

from __future__ import annotations

LIVE = "live"              # up to date: serves reads and takes writes
CATCHING_UP = "catching_up"  # running, behind: being brought up to date, serves nothing
DOWN = "down"              # its actor died or hung: to be replaced


class Slot:
    """A replica's place: shard, number, directory, current actor and state.
    Fields change under the coordinator's condition lock."""

    def __init__(self, shard: int, index: int, path: str) -> None:
        self.shard, self.index, self.path = shard, index, path
        self.actor = None
        self.state = DOWN
        self.dead = True          # the actor must be (re)started
        self.seq = -1             # the store's change number, as last reported
        self.incarnation = None   # changes with every actor start
        self.repairing = False    # a repair thread owns it
        self.force_copy = False   # its data is suspect: catch up by full copy
        self.error: str | None = None
        self.catch_ups: list[dict] = []  # how it was brought up to date, most recent last

    def describe(self) -> dict:
        return {"shard": self.shard, "replica": self.index, "state": self.state, "seq": self.seq,
                "error": self.error, "catch_ups": list(self.catch_ups[-5:])}

    def __repr__(self) -> str:
        return f"<replica {self.shard}.{self.index} {self.state} seq={self.seq}>"
