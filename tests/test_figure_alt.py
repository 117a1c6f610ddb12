"""Every figure carries alt text described from its own content, from the kernel to the page."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_kit.figure_alt import MystNbAltText, describe_figure  # noqa: E402


def test_description_names_panels_kinds_titles_labels_and_legends():
    fig, (left, right) = plt.subplots(1, 2)
    left.imshow(np.zeros((8, 8)), cmap="gray")
    left.set_title("raw nuclei")
    right.hist(np.random.default_rng(0).normal(size=200), bins=20, label="pixels")
    right.set_xlabel("grey value")
    right.set_ylabel("count")
    right.legend()
    fig.colorbar(left.images[0], ax=left)  # colour bars are not panels
    text = describe_figure(fig)
    plt.close(fig)
    assert text.startswith("Figure with 2 panels")
    for words in ("grey image titled 'raw nuclei'", "bar chart", "x axis 'grey value'",
                  "y axis 'count'", "legend 'pixels'"):  # fmt: skip
        assert words in text, (words, text)


def test_a_large_grid_is_summarised():
    fig, axes = plt.subplots(4, 5)
    for number, ax in enumerate(axes.flat):
        ax.imshow(np.zeros((4, 4, 3)))
        ax.set_title(f"cell {number}")
    text = describe_figure(fig)
    plt.close(fig)
    assert "a grid of 20 colour images" in text and "'cell 0'" in text
    assert len(text) < 600


def test_an_empty_figure_has_no_description():
    fig = plt.figure()
    assert describe_figure(fig) == ""
    plt.close(fig)


@pytest.mark.slow
def test_figures_in_a_kernel_carry_alt_text_in_their_output_metadata():
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nimport course_kit"),
        nbformat.v4.new_code_cell(
            "fig, ax = plt.subplots()\nax.plot([1, 2, 3], [3, 1, 2])\nax.set_title('speed')"
        ),
    ]
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    images = [out for out in notebook.cells[1].outputs if "image/png" in out.get("data", {})]
    assert images, notebook.cells[1].outputs
    alt = images[0]["metadata"]["image/png"]["alt"]  # IPython nests metadata by mime type
    assert "line plot titled 'speed'" in alt


def test_the_page_renderer_copies_the_alt_text_onto_the_image():
    class Data:
        mime_type = "image/png"
        output_metadata = {"image/png": {"alt": "Figure: grey image titled 'raw'."}}

    class Renderer:
        @staticmethod
        def render_image(data):
            return [{"uri": "x.png"}]

    nodes = MystNbAltText.handle_mime(Renderer, Data, inline=False)
    assert nodes == [{"uri": "x.png", "alt": "Figure: grey image titled 'raw'."}]
    Data.output_metadata = {}
    assert MystNbAltText.handle_mime(Renderer, Data, inline=False) is None
