"""The dashboard at / in headless Chromium (Debian's `chromium`, which
`make chromium` installs): the page, given a key in its URL fragment,
renders the tenant's collections with their counts and latency figures and
runs a search from its search box; the screenshot is a real, non-blank
picture."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("strawberry")

import oxvec  # noqa: E402
from oxvec.server import Service, create_app  # noqa: E402
from serverutil import ThreadServer  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(url: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--no-first-run", "--hide-scrollbars", "--window-size=1200,800",
                           "--virtual-time-budget=15000", *extra, url],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (make chromium installs it)")
def test_dashboard_renders_collections_and_searches(tmp_path):
    db = oxvec.Database(tmp_path / "db", durability="never", key_cost=4)
    db.create_tenant("acme")
    db.create_tenant("other")
    db.create_collection("acme", "articles", dim=4)
    db.create_collection("acme", "products", dim=4, index="hnsw")
    db.create_collection("other", "hidden-one", dim=4)
    key = db.create_api_key("acme", role="writer")
    s = db.session(key)
    s.collection("articles").add(["a1", "a2", "a3"], np.eye(3, 4, dtype=np.float32),
                                 documents=["zebra crossing guide", "apple pie", "zebra stripes"])
    s.collection("articles").search(np.ones(4, np.float32), k=2)  # a latency figure to show
    s.close()
    with ThreadServer(create_app(Service(db))) as srv:
        page = f"{srv.url}/#key={key}&collection=articles&q=zebra"
        dom = _chromium(page, "--dump-dom")
        assert dom.returncode == 0, dom.stderr[-2000:]
        html = dom.stdout
        rows = re.findall(r'<tr class="collection">(.*?)</tr>', html, re.S)
        cells = [re.findall(r"<td>(.*?)</td>", r) for r in rows]
        assert [c[0] for c in cells] == ["articles", "products"], html[-3000:]
        assert cells[0][1] == "3" and cells[1][1] == "0"  # record counts
        assert cells[0][6].endswith(" ms")  # search p50 from the stats
        assert "hidden-one" not in html  # another tenant's
        hits = re.findall(r"<li>(.*?)</li>", html)
        assert len(hits) == 2 and all("zebra" in h for h in hits), hits

        png = tmp_path / "dashboard.png"
        shot = _chromium(page, f"--screenshot={png}")
        assert shot.returncode == 0 and png.exists(), shot.stderr[-2000:]
    db.close()
    img = _png_pixels(png)
    assert img.shape[0] >= 400 and img.shape[1] >= 600
    # a rendered page: several colours, and a real share of the pixels
    # differ from the background (a blank or failed page is one colour)
    flat = img.reshape(-1, img.shape[-1])
    background = np.median(flat, axis=0)
    inked = np.abs(flat.astype(np.int16) - background.astype(np.int16)).sum(axis=1) > 48
    assert len(np.unique(flat, axis=0)) > 20
    assert 0.01 < inked.mean() < 0.9


def _png_pixels(path) -> np.ndarray:
    from PIL import Image  # matplotlib's dependency, in the test extra

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))
