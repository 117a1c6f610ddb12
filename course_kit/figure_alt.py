"""Alt text for every figure a notebook shows, written from what the figure contains.

In a Jupyter kernel, :func:`install` wraps IPython's PNG formatter for matplotlib figures so
that each figure's output carries ``{"alt": ...}`` in its metadata: a description made from
the figure itself (:func:`describe_figure`: how many panels, what kind each is, their titles,
axis labels and legend entries). The website build turns that metadata into the ``alt``
attribute of the image (:class:`MystNbAltText`, a MyST-NB mime renderer plugin registered as
an entry point), and a cell can replace it with a hand-written description in its own
metadata (``"alt"``, read by ``book/_ext/alt_text.py``). Screen-reader users then hear what a
figure shows instead of its file name.

``course_kit`` calls :func:`install` when it is imported inside an IPython kernel; it does
nothing anywhere else.
"""

from __future__ import annotations

__all__ = ["MystNbAltText", "describe_figure", "install"]

_MAX_PANELS = 6
_MAX_LENGTH = 600


def _quoted(text: str) -> str:
    return f"'{' '.join(text.split())}'"


def _panel_kind(ax) -> str:
    from matplotlib.collections import PathCollection
    from matplotlib.patches import Rectangle

    if ax.images:
        shape = ax.images[0].get_array().shape
        return "colour image" if len(shape) == 3 else "grey image"
    if any(isinstance(c, PathCollection) and len(c.get_offsets()) > 2 for c in ax.collections):
        return "scatter plot"
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    if len(bars) > 3:
        return "bar chart"
    if any(len(line.get_xdata()) > 2 for line in ax.lines):
        return "line plot"
    if ax.collections:
        return "plot"
    if ax.texts and not ax.axison:
        return "text panel"
    return "plot"


def _describe_panel(ax) -> str:
    words = [_panel_kind(ax)]
    title = ax.get_title() or ax.get_title(loc="left") or ax.get_title(loc="right")
    if title.strip():
        words.append(f"titled {_quoted(title)}")
    if ax.axison:
        if ax.get_xlabel().strip():
            words.append(f"x axis {_quoted(ax.get_xlabel())}")
        if ax.get_ylabel().strip():
            words.append(f"y axis {_quoted(ax.get_ylabel())}")
    legend = ax.get_legend()
    if legend is not None:
        entries = [t.get_text() for t in legend.get_texts() if t.get_text().strip()]
        if entries:
            words.append("legend " + ", ".join(_quoted(e) for e in entries[:8]))
    return " ".join(words)


def describe_figure(fig) -> str:
    """Describe a matplotlib figure in one sentence from its own content.

    Parameters
    ----------
    fig : matplotlib.figure.Figure

    Returns
    -------
    str
        For example ``"Figure with 2 panels: (1) grey image titled 'raw'; (2) bar chart
        titled 'histogram', x axis 'grey value', y axis 'pixels'."``; an empty string for a
        figure without visible axes.
    """
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    if not panels:
        return ""
    suptitle = getattr(fig, "_suptitle", None)
    heading = f" titled {_quoted(suptitle.get_text())}" if suptitle and suptitle.get_text() else ""
    descriptions = [_describe_panel(ax) for ax in panels]
    if len(panels) == 1:
        text = f"Figure{heading}: {descriptions[0]}."
    elif len(panels) > _MAX_PANELS and len({d.split(" titled")[0] for d in descriptions}) == 1:
        titles = [
            d.split("titled ", 1)[1].split(" x axis")[0] for d in descriptions if "titled" in d
        ]
        shown = f", including {', '.join(titles[:_MAX_PANELS])}" if titles else ""
        text = f"Figure{heading}: a grid of {len(panels)} {descriptions[0].split(' titled')[0]}s{shown}."
    else:
        listed = "; ".join(f"({i}) {d}" for i, d in enumerate(descriptions[:_MAX_PANELS], 1))
        more = f"; and {len(panels) - _MAX_PANELS} more panels" if len(panels) > _MAX_PANELS else ""
        text = f"Figure{heading} with {len(panels)} panels: {listed}{more}."
    return text if len(text) <= _MAX_LENGTH else text[: _MAX_LENGTH - 1] + "…"


def _wrap(formatter, figure_type) -> None:
    current = formatter.lookup_by_type(figure_type)
    if getattr(current, "_course_kit_alt", False):
        return

    def png_with_alt(fig):
        result = current(fig)
        data, metadata = result if isinstance(result, tuple) else (result, {})
        alt = describe_figure(fig)
        return (data, {**(metadata or {}), "alt": alt}) if alt else result

    png_with_alt._course_kit_alt = True
    formatter.for_type(figure_type, png_with_alt)


def install() -> bool:
    """Add alt text to the PNG output of every matplotlib figure in this IPython kernel.

    Returns
    -------
    bool
        True when installed (inside IPython), False elsewhere.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or getattr(shell, "_course_kit_figure_alt", False):
        return shell is not None
    from matplotlib.figure import Figure

    formatter = shell.display_formatter.formatters["image/png"]

    def ensure_wrapped(*_args, **_kwargs):
        # matplotlib's inline backend (re)registers its formatter when it is activated or
        # configured; wrap whatever is current before each cell runs.
        try:
            formatter.lookup_by_type(Figure)
        except KeyError:
            return
        _wrap(formatter, Figure)

    ensure_wrapped()
    shell.events.register("pre_run_cell", ensure_wrapped)
    shell.events.register("post_execute", ensure_wrapped)
    shell._course_kit_figure_alt = True
    return True


class MystNbAltText:
    """MyST-NB mime renderer: an output image gets the ``alt`` its output metadata carries."""

    mime_priority_overrides = ()

    @staticmethod
    def handle_mime(renderer, data, inline):
        """Render PNG/JPEG outputs that carry alt text; leave every other output to MyST-NB."""
        if inline or data.mime_type not in ("image/png", "image/jpeg"):
            return None
        metadata = data.output_metadata or {}
        alt = (metadata.get(data.mime_type) or {}).get("alt") or metadata.get("alt")
        if not alt:
            return None
        nodes = renderer.render_image(data)
        for node in nodes:
            node["alt"] = str(alt)
        return nodes
