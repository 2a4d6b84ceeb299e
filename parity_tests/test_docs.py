"""The reading guide stays true to the code: pages fresh, every concept paged, figures drawable.

docs/build_pages.py and docs/make_figures.py are run by CI as commands too; these tests keep
the cheap half of that inside the suite.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_docs_{name}", DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def build_pages():
    return _load("build_pages")


@pytest.fixture(scope="module")
def make_figures():
    return _load("make_figures")


def test_pages_are_fresh(build_pages, capsys):
    """Regenerating the pages would change nothing (run `python docs/build_pages.py` if this fails)."""
    status = build_pages.main(["--check"])
    assert status == 0, capsys.readouterr().out


def test_every_concept_pair_has_a_page(build_pages):
    pairs = sorted(p.stem for p in (ROOT / "scratch").glob("*.py")
                   if not p.stem.startswith("_") and p.stem != "module"
                   and (ROOT / "torch_ref" / p.name).exists())
    assert pairs, "no concept pairs found"
    concepts = [c.name for c in build_pages.discover()[0]]
    assert sorted(concepts) == pairs
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    readme_map = build_pages.README.read_text(encoding="utf-8")
    for name in pairs:
        page = DOCS / f"{name}.md"
        assert page.exists(), f"docs/{name}.md is missing"
        text = page.read_text(encoding="utf-8")
        # The side-by-side table shows both files, and the page links to them.
        assert f"scratch/{name}.py" in text and f"torch_ref/{name}.py" in text
        assert "<table>" in text
        assert f"]({name}.md)" in index, f"docs/index.md does not link docs/{name}.md"
        assert f"](docs/{name}.md)" in readme_map


def test_side_by_side_pairs_methods_with_torchs_own_source(build_pages):
    """Linear's header sits beside the torch_ref alias, and each method beside torch's method of
    the same name, read from the installed torch: forward beside nn.Linear.forward."""
    concept = next(c for c in build_pages.discover()[0] if c.name == "linear")
    rows = [row for group in build_pages.side_rows(concept) for row in group]
    header = next(r for r in rows if any(getattr(c, "key", "") == "Linear.(class)" for c in r.left))
    assert "Linear = nn.Linear" in header.right[0].text
    forward = next(r for r in rows if any(getattr(c, "key", "") == "Linear.forward" for c in r.left))
    assert [c.qualname for c in forward.right] == ["torch.nn.modules.linear.Linear.forward"]
    assert "F.linear(input, self.weight, self.bias)" in forward.right[0].text.replace("\n", "")
    backward = next(r for r in rows if any(getattr(c, "key", "") == "Linear.backward" for c in r.left))
    assert backward.right == ["autograd derives the backward"]


def test_every_row_fits_githubs_column(build_pages):
    """No page has a side-by-side row wider than GitHub's 1,012-pixel column."""
    errors = build_pages.render()[2]
    assert errors == [], "\n".join(errors)


def test_links_in_the_pages_resolve(build_pages):
    """Every relative link and image on the generated pages points at a file that exists
    (a missing figure means `python docs/make_figures.py` was not rerun)."""
    for page in [*sorted(DOCS.glob("*.md")), build_pages.README]:
        text = page.read_text(encoding="utf-8")
        if page != build_pages.README and not text.startswith(build_pages.MARKER):
            continue                    # a hand-written page: not ours to police
        base = ROOT if page == build_pages.README else DOCS
        targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
        targets += re.findall(r'href="([^"#]+)(?:#[^"]*)?"', text)
        for target in targets:
            if "://" in target:
                continue
            assert (base / target).exists(), f"{page.name} links to {target}, which does not exist"


def test_a_few_figures_draw_headless(make_figures, tmp_path):
    """A fast subset of the figure command, into a temporary folder: non-empty PNGs."""
    import matplotlib

    assert matplotlib.get_backend().lower() == "agg"
    names = [f.name for f in make_figures.FIGURES if f.name in ("activations", "flatten", "neuron")]
    ready = [n for n in names if next(f for f in make_figures.FIGURES if f.name == n).available()]
    if not ready:
        pytest.skip("none of the fast figures' modules exist yet")
    context = make_figures.Context(scratch_dir=str(tmp_path))
    written, skipped, failed = make_figures.run(ready, tmp_path, context)
    assert failed == [] and skipped == []
    assert sorted(written) == sorted(ready)
    for name in ready:
        png = tmp_path / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 10_000, f"{png.name} is suspiciously small"


def test_figure_registry_is_consistent(make_figures):
    names = [f.name for f in make_figures.FIGURES]
    assert len(names) == len(set(names))
    for fig in make_figures.FIGURES:
        assert fig.title and fig.caption and fig.concepts and fig.needs
        for need in fig.needs:
            assert not Path(need).is_absolute() and ".." not in need
