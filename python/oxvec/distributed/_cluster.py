"""A Ray cluster on this machine only, for tests, benchmarks and laptops."""

from __future__ import annotations

import os

import ray

from .._errors import StateError


def init_local(num_cpus: int = 2, object_store_memory: int = 200 * 1024 * 1024, **kwargs) -> dict:
    """Start a one-node Ray cluster whose servers listen on 127.0.0.1 only,
    without the dashboard and without usage reporting; returns ray.init's
    context as a dict. ``kwargs`` go to ray.init.

    Ray turns a node address of 127.0.0.1 into the machine's own address
    unless "cluster mode" is off (it is off on macOS and Windows, where Ray
    binds loopback to avoid firewall prompts). Turning it off here, for
    this process and the workers it starts, makes the GCS, the raylet, the
    workers and the runtime-env agent bind loopback on Linux as well.
    """
    if ray.is_initialized():
        raise StateError("Ray is already initialized in this process; call ray.shutdown() first")
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read by the worker processes at import
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    from ray._private import ray_constants  # read at call time by ray._private.services

    ray_constants.ENABLE_RAY_CLUSTER = False
    kwargs.setdefault("log_to_driver", False)
    ctx = ray.init(num_cpus=num_cpus, include_dashboard=False, object_store_memory=object_store_memory,
                   _node_ip_address="127.0.0.1", **kwargs)
    ip = ray.util.get_node_ip_address()
    if ip != "127.0.0.1":
        ray.shutdown()
        raise StateError(f"Ray chose node address {ip}, not 127.0.0.1; start the cluster yourself with ray.init")
    return dict(ctx.address_info) if hasattr(ctx, "address_info") else {}
