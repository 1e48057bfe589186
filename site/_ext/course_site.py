"""Sphinx extension of the reader's edition: alt text for every notebook figure.

MyST-NB writes each output image to a file named by the SHA-256 of its bytes, and gives it no alt text of its
own. ``scripts/build_site.py`` writes ``_alt_text.json`` ({sha256: alt text}, from the figure's own titles,
axes and legends, see ``course_utils.static.describe_figure``) into the source folder; this extension puts that
text on each image node. An image left without alt text is reported as a warning, and the build fails on it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
ALT_FILE = "_alt_text.json"


def _load(app: Sphinx) -> dict[str, str]:
    path = Path(app.srcdir) / ALT_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def add_alt_text(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Set ``alt`` on every image whose file name is a hash listed in the alt-text map."""
    alts = app.env.course_alt_text if hasattr(app.env, "course_alt_text") else _load(app)
    app.env.course_alt_text = alts
    for image in doctree.findall(nodes.image):
        stem = Path(str(image.get("uri", ""))).stem
        if stem in alts:
            image["alt"] = alts[stem]
        elif not image.get("alt") or image["alt"] == image.get("uri"):
            LOGGER.warning(f"image {image.get('uri')} in {docname} has no alt text", type="course", subtype="alt")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-resolved", add_alt_text)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
