"""Read the files of an ipywidgets ``FileUpload`` the same way under ipywidgets 7 and 8.

Google Colab runs ipywidgets 7 (its widget front end does not support 8); JupyterLab and Binder
run 8. The two store uploads differently in ``FileUpload.value``:

* ipywidgets 7: a dict ``{file name: {"metadata": {"name", "type", "size", "lastModified"},
  "content": bytes}}``;
* ipywidgets 8: a tuple of dicts ``{"name", "type", "size", "last_modified", "content":
  memoryview}``.

:func:`uploaded_files` turns either into a list of ``{"name": str, "content": bytes}``.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["uploaded_files"]


def _entry(name, content) -> dict:
    if not isinstance(name, str) or content is None:
        raise TypeError(f"an uploaded file needs a name and a content, got {name!r}")
    return {"name": name, "content": bytes(content)}


def uploaded_files(value) -> list[dict]:
    """Return the uploaded files of a ``FileUpload.value`` (ipywidgets 7 or 8).

    Parameters
    ----------
    value : dict or tuple or list
        ``FileUpload.value``: a dict of dicts (ipywidgets 7) or a tuple of dicts (ipywidgets 8).
        ``None`` or an empty value means nothing was uploaded.

    Returns
    -------
    list of dict
        ``[{"name": str, "content": bytes}, ...]`` in upload order.

    Raises
    ------
    TypeError
        If ``value`` has neither shape.
    """
    if not value:
        return []
    if isinstance(value, Mapping):  # ipywidgets 7
        files = []
        for key, item in value.items():
            if not isinstance(item, Mapping):
                raise TypeError(f"unexpected FileUpload value for {key!r}: {type(item).__name__}")
            name = item.get("metadata", {}).get("name", key)
            files.append(_entry(name, item.get("content")))
        return files
    if isinstance(value, (tuple, list)):  # ipywidgets 8
        files = []
        for item in value:
            if not isinstance(item, Mapping):
                raise TypeError(f"unexpected FileUpload value item: {type(item).__name__}")
            files.append(_entry(item.get("name"), item.get("content")))
        return files
    raise TypeError(
        f"FileUpload.value should be a dict (ipywidgets 7) or a tuple (ipywidgets 8), "
        f"got {type(value).__name__}"
    )
