"""Two small fixes to the HTML that Jupyter Book 1 produces, as a Sphinx extension.

* sphinx-thebe registers its inline configuration script after the HTML builder has started,
  so Sphinx adds it twice to every page and the browser reports
  "Identifier 'THEBE_JS_URL' has already been declared". Each page keeps only the first copy
  of identical scripts.
* pydata-sphinx-theme logs "Got invalid theme mode" when no default colour mode is set; the
  course uses the light mode unless the reader picks another one.
"""

from __future__ import annotations


def _script_key(script) -> tuple:
    filename = getattr(script, "filename", script) or ""  # inline scripts: None or ""
    attributes = getattr(script, "attributes", {}) or {}
    return (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def deduplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated identical entries from ``script_files``; default to the light mode."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique
    if not context.get("default_mode"):
        context["default_mode"] = "light"


def setup(app):
    """Sphinx entry point."""
    app.connect("html-page-context", deduplicate_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
