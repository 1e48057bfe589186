"""Sphinx configuration of the reader's edition (built by ``scripts/build_site.py``, run ``make site``).

The source folder is assembled by the build script (README as the landing page, the executed notebooks, the
guides, the solutions); this folder holds only the configuration, the local assets and a small extension.
Everything a page loads comes from the site itself: the theme's CSS/JS/icon fonts ship in the
sphinx-book-theme wheel, MathJax is vendored in ``_static/mathjax``, search is Sphinx's own index, and no widget
JavaScript is loaded (widgets are replaced by static HTML, see ``course_utils.static``).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

project = "train() and eval(): how PyTorch modes really work"
author = "The course authors"
copyright = "the course authors. Code: MIT; the digits data: CC BY 4.0"
language = "en"

extensions = ["myst_nb", "course_site"]

# The notebooks arrive executed (scripts/build_site.py runs them with the course's own packages): never re-run.
nb_execution_mode = "off"
# No widget JavaScript at all: it would come from a CDN, and a page without a kernel cannot run a widget anyway.
nb_ipywidgets_js: dict = {}
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None),
                              ("html", "application/javascript", None)]
nb_merge_streams = True
# Cell outputs keep the course's own HTML (static widget fallbacks, feedback boxes, mode tables).
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 4
suppress_warnings = ["myst.header"]

source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# MathJax from the site itself (the self-contained SVG build: no fonts or extensions fetched later).
mathjax_path = "mathjax/tex-svg-full.js"

html_theme = "sphinx_book_theme"
html_title = "train() and eval()"
html_static_path = [str(HERE / "_static")]
html_css_files = ["course-site.css"]
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,  # the banner links the notebook itself
    "use_fullscreen_button": False,
    "use_repository_button": bool(os.environ.get("COURSE_REPO_URL")),
    "repository_url": os.environ.get("COURSE_REPO_URL", ""),
    "home_page_in_toc": True,
    "navigation_with_keys": False,
    "announcement": "",
}
# No external links in the page chrome (e.g. a theme's "made with" badges point off-site but load nothing).
html_context = {"default_mode": "light"}
