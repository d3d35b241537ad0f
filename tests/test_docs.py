"""docs/labs.md is what the labs' declarations say (regenerate: python docs/build_labs.py)."""

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_labs_md_is_up_to_date():
    spec = importlib.util.spec_from_file_location("build_labs", DOCS / "build_labs.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert (DOCS / "labs.md").read_text(encoding="utf-8") == build.markdown(), (
        "docs/labs.md is out of date: run python docs/build_labs.py"
    )
