"""Failover and catch-up: replacing replicas whose actor died, and bringing
a replica that missed writes up to date before it serves again.

A replica leaves the live set when a call to it fails (its actor died:
down) or when it answers for another change number than the coordinator
expects (behind: catching up). Either way a repair thread takes it over:

1. a down replica's actor is killed for certain and a new one started on
   the same directory; it reopens the durable store (WAL replay), so it
   comes back at the last change it made durable;
2. it asks a live peer of the shard for the writes after its change number:
   the peer replays from its bounded log of recent writes when the log
   reaches back that far, otherwise it sends a full copy (a backup of its
   store, as bytes, restored here); rounds repeat while writes go on;
3. when it has every change the shard committed, it is marked live, under
   the same lock the writer takes to decide its live set, so no write can
   slip between the last round and the switch (a write in flight when it
   joins is sent to it too: see ShardedStore._write_shard).

A replica that is behind and has no live peer stays out (reads of that
shard wait, then raise ShardUnavailableError). A replica ahead of the
coordinator holds a write whose quorum failed: when no write is in flight
the coordinator adopts its number and the others catch up from it.
"""

from __future__ import annotations

import threading
import time

import ray
from ray.exceptions import GetTimeoutError, RayActorError

from ._slot import CATCHING_UP, DOWN, LIVE, Slot


class _PeerLost(Exception):
    """The peer a catch-up read from died; pick another."""


class RepairMixin:
    """The repair half of ShardedStore (needs its _cv, _slots, _seq,
    _wlocks, _inflight, _closed, timeout and _spawn)."""

    # --- marking --------------------------------------------------------
    def _lost(self, sl: Slot, actor, why: str) -> None:
        """A call to ``actor`` (sl's actor when it was sent) failed: take it
        out and replace it, unless a newer actor took its place already."""
        with self._cv:
            if sl.actor is not actor or self._closed:
                return
            sl.state, sl.dead, sl.error = DOWN, True, why
            self._cv.notify_all()
            self._schedule(sl)

    def _behind(self, sl: Slot, actor, why: str, copy: bool = False) -> None:
        """sl answered for another change number (or cannot serve): catch it up."""
        with self._cv:
            if sl.actor is not actor or self._closed:
                return
            if sl.state == LIVE:
                sl.state = CATCHING_UP
            sl.error = why
            sl.force_copy = sl.force_copy or copy
            self._cv.notify_all()
            self._schedule(sl)

    def _schedule(self, sl: Slot) -> None:
        """Start a repair thread for sl unless one runs (call under _cv)."""
        if sl.repairing or self._closed or self._repairs_held:
            return
        sl.repairing = True
        threading.Thread(target=self._repair, args=(sl,), daemon=True,
                         name=f"oxvec-repair-{sl.shard}.{sl.index}").start()

    # --- the repair loop ------------------------------------------------
    def _repair(self, sl: Slot) -> None:
        backoff = 0.05
        try:
            while not self._closed:
                try:
                    if sl.dead:
                        self._restart(sl)
                    # a new actor needs a few seconds (a worker process, the engine, a
                    # WAL replay): a short call timeout must not kill it while it starts
                    st = ray.get(sl.actor.status.remote(), timeout=max(self.timeout, 120.0))
                    with self._cv:
                        sl.seq, sl.incarnation = st["seq"], st["incarnation"]
                    if self._catch_up(sl):
                        return
                except (RayActorError, GetTimeoutError) as e:
                    with self._cv:
                        sl.dead, sl.state, sl.error = True, DOWN, f"{type(e).__name__}: {e}"[:500]
                except _PeerLost:
                    continue
                except Exception as e:  # a replay that found a gap, a failed copy: start over with a copy
                    with self._cv:
                        sl.error, sl.force_copy = f"{type(e).__name__}: {e}"[:500], True
                with self._cv:
                    if self._closed:
                        return
                    self._cv.wait(backoff)  # woken early when another replica changes state
                backoff = min(backoff * 2, 2.0)
        finally:
            with self._cv:
                sl.repairing = False

    def _restart(self, sl: Slot) -> None:
        """Kill sl's actor for certain (a hung one still holds the store's
        lock) and start a new one on the same directory."""
        old = sl.actor
        if old is not None:
            try:
                ray.kill(old, no_restart=True)
            except Exception:  # already gone
                pass
        actor = self._spawn(sl)
        with self._cv:
            sl.actor, sl.dead, sl.state, sl.seq = actor, False, CATCHING_UP, -1

    def _catch_up(self, sl: Slot) -> bool:
        """Bring sl up to the shard's committed change and mark it live;
        False when no live peer can serve it (the caller waits and retries)."""
        s = sl.shard
        while not self._closed:
            with self._cv:
                target = self._seq[s]
                peers = sorted((p for p in self._slots[s] if p is not sl and p.state == LIVE), key=lambda p: -p.seq)
                if not sl.force_copy and sl.seq >= target:
                    if sl.seq == target or (self._inflight[s] and sl.seq == target + 1):
                        sl.state, sl.error = LIVE, None
                        self._cv.notify_all()
                        return True
                    if not self._inflight[s] and (not peers or sl.seq > peers[0].seq):
                        if self._adopt(s, sl):
                            return True
                    # ahead with a write in flight, or a peer is further ahead: wait for it to settle
                    sl.error = f"at change {sl.seq}, ahead of the shard's {target}: waiting for writes to settle"
                    return False
                if not peers:
                    sl.error = (f"behind: at change {sl.seq} of {target}, no live replica of shard {s} to copy from"
                                if sl.seq < target else "its data must be copied, and no live replica has it")
                    return False
                peer = peers[0]
            t0 = time.monotonic()
            entries = None if sl.force_copy else self._from_peer(peer, "log_since", sl.seq)
            if entries is None:
                # the copy goes from the peer's object store to the replica's
                # (the coordinator only passes the reference on)
                copy = peer.actor.export.remote()
                ready, _ = ray.wait([copy], timeout=self.timeout, fetch_local=False)
                if not ready:
                    self._lost(peer, peer.actor, f"no copy within {self.timeout:g} s")
                    raise _PeerLost()
                self._from_peer(peer, "status")  # a peer that died while exporting is taken out here
                new = ray.get(sl.actor.install.remote(copy), timeout=self.timeout)
                how, n = "copy", new
            else:
                new = ray.get(sl.actor.replay.remote(entries), timeout=self.timeout)
                how, n = "log", len(entries)
            with self._cv:
                stuck = entries is not None and new == sl.seq  # the peer had nothing newer: wait, do not spin
                if entries is None:
                    sl.force_copy = False
                if n:
                    sl.catch_ups.append({"how": how, "from": peer.index, "changes" if how == "log" else "at": n,
                                         "seconds": round(time.monotonic() - t0, 4)})
                sl.seq = new
                if stuck:
                    sl.error = f"at change {new} of {self._seq[s]}; its peer has nothing newer yet"
                    return False
        return False

    def _adopt(self, s: int, sl: Slot) -> bool:
        """sl holds writes no other live replica has (a write whose quorum
        failed): make its change number the shard's, so the others catch up
        from it. Call under _cv with no write in flight; False if a writer
        holds the shard."""
        if not self._wlocks[s].acquire(blocking=False):
            return False
        try:
            self._seq[s] = sl.seq
            sl.state, sl.error = LIVE, None
            for p in self._slots[s]:
                if p is not sl and p.state == LIVE and p.seq < sl.seq:
                    p.state, p.error = CATCHING_UP, f"behind replica {sl.index}, which holds writes it lacks"
                    self._schedule(p)
            self._cv.notify_all()
            return True
        finally:
            self._wlocks[s].release()

    def _from_peer(self, peer: Slot, method: str, *args):
        actor = peer.actor
        try:
            return ray.get(getattr(actor, method).remote(*args), timeout=self.timeout)
        except (RayActorError, GetTimeoutError) as e:
            self._lost(peer, actor, f"{type(e).__name__} while serving a catch-up")
            raise _PeerLost() from e

    # --- for operators and tests ----------------------------------------
    def health(self) -> list[list[dict]]:
        """Each replica's state by shard: state ("live", "catching_up",
        "down"), seq (its change number), error (why it is not live) and
        catch_ups (how it was last brought up to date: "log" with the
        number of changes replayed, or "copy")."""
        with self._cv:
            return [[sl.describe() for sl in shard] for shard in self._slots]

    def probe(self, timeout: float | None = None) -> None:
        """Ask every live replica for its status, so that one whose actor
        died since its last call is found (and replaced) now rather than by
        the next call that reaches it."""
        with self._cv:
            live = [(sl, sl.actor) for shard in self._slots for sl in shard if sl.state == LIVE]
        calls = {actor.status.remote(): (sl, actor) for sl, actor in live}
        ray.wait(list(calls), num_returns=len(calls), timeout=self.timeout if timeout is None else timeout)
        for ref, (sl, actor) in calls.items():
            try:
                ray.get(ref, timeout=0)
            except (RayActorError, GetTimeoutError) as e:
                self._lost(sl, actor, f"{type(e).__name__} on a probe")

    def wait_ready(self, timeout: float | None = None) -> None:
        """Probe every replica, then block until every one is live and at
        its shard's change number; ShardUnavailableError (naming the
        laggards) after ``timeout`` seconds (default: the store's timeout)."""
        from ._errors import ShardUnavailableError

        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self.probe(timeout)
        with self._cv:
            while True:
                # a live replica ahead of its shard's number holds a write in flight
                lag = [sl for shard in self._slots for sl in shard
                       if sl.state != LIVE or sl.seq < self._seq[sl.shard]]
                if not lag:
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ShardUnavailableError("replicas not ready: " + "; ".join(
                        f"{sl.shard}.{sl.index} {sl.state} at {sl.seq} of {self._seq[sl.shard]} ({sl.error})" for sl in lag))
                for sl in lag:
                    if sl.state != LIVE:
                        self._schedule(sl)
                self._cv.wait(min(left, 0.5))
