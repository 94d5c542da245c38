"""bench/RESULTS.md: each benchmark owns one section, replaced by its last
run."""

from pathlib import Path

PATH = Path(__file__).resolve().parent / "RESULTS.md"


def section_write(section: str) -> None:
    """Put `section` (which begins with its "## " heading) in place of the
    section of the same heading, at the end of the file."""
    heading = section.split("\n", 1)[0]
    text = PATH.read_text() if PATH.exists() else "# Benchmarks\n"
    start = text.find(heading + "\n")
    if start != -1:
        end = text.find("\n## ", start + 1)
        text = text[:start] + (text[end + 1 :] if end != -1 else "")
    PATH.write_text(text.rstrip() + "\n\n" + section)
