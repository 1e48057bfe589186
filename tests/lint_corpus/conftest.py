# The corpus files are inputs for course_utils.lint (scripts/lint_corpus.py), not lessons or tests: nbval and
# pytest must not run them.
collect_ignore_glob = ["*.py", "*.ipynb"]
