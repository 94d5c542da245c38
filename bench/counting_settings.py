"""The project's settings plus the statement counters of bench/counting.py
(the pipeline benchmark only)."""

from bench import counting
from plugmessage.settings import *  # noqa: F403

counting.install()
