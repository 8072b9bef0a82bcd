"""A BERT encoder forward pass in numpy float32 (inference only).

The shapes and names follow Hugging Face's BertModel, whose weights
all-MiniLM-L6-v2 ships: word/position/token-type embeddings, then layers of
self-attention and a GELU feed-forward block, each followed by a residual
connection and layer normalisation.
"""

from __future__ import annotations

import numpy as np

# Abramowitz & Stegun 7.1.26: erf to 1.5e-7 absolute, since numpy has no erf
# and GELU needs the exact (erf) form BERT was trained with.
_P = 0.3275911
_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def _erf(x: np.ndarray) -> np.ndarray:
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + _P * a)
    y = 1.0 - ((((_A[4] * t + _A[3]) * t + _A[2]) * t + _A[1]) * t + _A[0]) * t * np.exp(-a * a)
    return s * y


def gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))


def layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


class Bert:
    """BertModel weights and its forward pass."""

    def __init__(self, tensors: dict[str, np.ndarray], config: dict) -> None:
        def t(name: str) -> np.ndarray:
            for key in (name, "bert." + name):
                if key in tensors:
                    return np.ascontiguousarray(tensors[key], dtype=np.float32)
            raise KeyError(f"weight {name} is missing from the model file")

        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.word = t("embeddings.word_embeddings.weight")
        self.pos = t("embeddings.position_embeddings.weight")
        self.type0 = t("embeddings.token_type_embeddings.weight")[0]
        self.emb_ln = (t("embeddings.LayerNorm.weight"), t("embeddings.LayerNorm.bias"))
        self.layers = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            # one fused (hidden, 3*hidden) projection for q, k and v
            qkv_w = np.concatenate([t(p + f"attention.self.{n}.weight") for n in ("query", "key", "value")]).T.copy()
            qkv_b = np.concatenate([t(p + f"attention.self.{n}.bias") for n in ("query", "key", "value")])
            self.layers.append(
                {
                    "qkv": (qkv_w, qkv_b),
                    "out": (t(p + "attention.output.dense.weight").T.copy(), t(p + "attention.output.dense.bias")),
                    "ln1": (t(p + "attention.output.LayerNorm.weight"), t(p + "attention.output.LayerNorm.bias")),
                    "up": (t(p + "intermediate.dense.weight").T.copy(), t(p + "intermediate.dense.bias")),
                    "down": (t(p + "output.dense.weight").T.copy(), t(p + "output.dense.bias")),
                    "ln2": (t(p + "output.LayerNorm.weight"), t(p + "output.LayerNorm.bias")),
                }
            )

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Token states (batch, seq, hidden) for token ids and an attention
        mask (1 = real token), both (batch, seq)."""
        b, n = ids.shape
        x = self.word[ids] + self.pos[:n] + self.type0
        x = layer_norm(x, *self.emb_ln, self.eps)
        h = x.shape[-1]
        hd = h // self.heads
        scale = np.float32(1.0 / np.sqrt(hd))
        # padding keys get a large negative score, so softmax gives them 0
        bias = ((1.0 - mask.astype(np.float32)) * np.float32(-1e9))[:, None, None, :]
        for L in self.layers:
            qkv = x @ L["qkv"][0] + L["qkv"][1]  # (b, n, 3h)
            qkv = qkv.reshape(b, n, 3, self.heads, hd).transpose(2, 0, 3, 1, 4)  # (3, b, heads, n, hd)
            q, k, v = qkv[0], qkv[1], qkv[2]
            s = (q @ k.transpose(0, 1, 3, 2)) * scale + bias  # (b, heads, n, n)
            s -= s.max(-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(-1, keepdims=True)
            a = (s @ v).transpose(0, 2, 1, 3).reshape(b, n, h)
            x = layer_norm(a @ L["out"][0] + L["out"][1] + x, *L["ln1"], self.eps)
            f = gelu(x @ L["up"][0] + L["up"][1]) @ L["down"][0] + L["down"][1]
            x = layer_norm(f + x, *L["ln2"], self.eps)
        return x
