"""The HTML report: run labs (run.py), write them as a handout (handout.py), rebuild the
handout from a folder of results (``load_report``), and a sweep's page (sweeps.py)."""

from ..labs.base import write_atomic
from ..labs.display import claim_line, format_cell
from ..labs.runner import RESULTS_FILE, prepare_out
from .handout import COURSE, course_parts, load_report, render_html, write_report
from .run import LabInfo, LabRun, run_lab, run_labs
from .sweeps import render_sweep_page, render_sweep_section

__all__ = [
    "COURSE",
    "LabInfo",
    "LabRun",
    "RESULTS_FILE",
    "claim_line",
    "course_parts",
    "format_cell",
    "load_report",
    "prepare_out",
    "render_html",
    "render_sweep_page",
    "render_sweep_section",
    "run_lab",
    "run_labs",
    "write_atomic",
    "write_report",
]
