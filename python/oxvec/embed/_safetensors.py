"""Reading .safetensors files with numpy alone.

The format is an 8-byte little-endian header length, a JSON header mapping
tensor names to dtype, shape and byte offsets, then the raw little-endian
data. The file is memory-mapped, so loading costs no copy until a tensor is
used.
"""

from __future__ import annotations

import json
import struct

import numpy as np

_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8, "I8": np.int8}


def load(path: str) -> dict[str, np.ndarray]:
    """All tensors of a .safetensors file as read-only numpy arrays."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > 100 << 20:
            raise ValueError(f"{path}: header of {n} bytes is not a safetensors header")
        header = json.loads(f.read(n))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(spec["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has dtype {spec['dtype']}, which this reader does not handle")
        start, end = spec["data_offsets"]
        out[name] = data[start:end].view(dtype).reshape(spec["shape"])
    return out
