"""`make run` writes nothing outside VAR_DIR: beat's schedule, like the
database, the filesystem broker and the media, goes there (before, the
Procfile wrote it under var/ whatever VAR_DIR said)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import ROOT


def test_beat_from_the_procfile_keeps_its_schedule_in_var_dir(tmp_path):
    var_dir = tmp_path / "var-elsewhere"
    bin_dir = Path(sys.executable).parent
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "VAR_DIR")
    }
    env.update(VAR_DIR=str(var_dir), PATH=f"{bin_dir}:{env.get('PATH', '')}")
    beat = subprocess.Popen(
        [str(bin_dir / "honcho"), "start", "beat"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not list(var_dir.glob("celerybeat-schedule*")):
            assert beat.poll() is None, beat.stdout.read().decode()
            assert time.monotonic() < deadline, "no schedule under VAR_DIR"
            time.sleep(0.2)
        time.sleep(1)
        assert beat.poll() is None  # beat keeps running
    finally:
        os.killpg(beat.pid, signal.SIGTERM)
        beat.wait(timeout=20)
