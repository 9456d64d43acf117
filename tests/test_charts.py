"""Pictures: headless, PNG, and the same bytes for the same figure."""

from lutmesh.charts import pyplot, save_figure


def _figure():
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1, 2], [2, 0, 1])
    ax.set_title("t")
    return fig


def test_png_bytes_are_deterministic_and_figures_are_closed(tmp_path):
    plt = pyplot()
    before = len(plt.get_fignums())
    a = save_figure(_figure(), tmp_path / "a.png")
    b = save_figure(_figure(), tmp_path / "b.png")
    assert a.read_bytes()[:4] == b"\x89PNG"
    assert a.read_bytes() == b.read_bytes()  # no timestamp in the file
    assert len(plt.get_fignums()) == before
    assert plt.get_backend().lower() == "agg"
