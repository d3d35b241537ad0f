"""nablab.progress.track: every item once, in order, on a terminal, nested, or disabled; the
notebook bar's HTML (tests/test_notebook.py runs it in a kernel)."""

from nablab.progress import _bar_html, in_notebook, track


def test_track_yields_every_item_nested_and_disabled(capsys):
    outer = [(i, list(track(range(3), description=f"inner {i}"))) for i in track("ab")]
    assert outer == [("a", [0, 1, 2]), ("b", [0, 1, 2])]
    assert list(track(iter([1, 2]), description="no len")) == [1, 2]
    assert list(track(range(2), enabled=False)) == [0, 1]
    assert not in_notebook()
    assert capsys.readouterr().out == ""  # the bar is on stderr, never in the output


def test_the_notebook_bar_is_escaped_html_with_a_count():
    html = _bar_html("<loop>", 3, 10, 1.25)
    assert "<progress value=3 max=10>" in html and "&lt;loop&gt;: 3/10 in 1.2 s" in html
    assert "<progress" not in _bar_html("x", 3, None, 0.0)  # unknown total: a count only
