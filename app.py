"""`python app.py` starts the kotae web chat (see `qa serve` for options)."""

import os

if __name__ == "__main__":
    # One torch thread: the chat runs one model call at a time anyway, and on a busy 2-core
    # machine two threads made a lone question's p95 up to 7x slower (benchmarks/README.md).
    # An OMP_NUM_THREADS already set wins; it must be set before torch loads.
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    from qa.config import Settings
    from qa.ui import launch

    launch(Settings.load())
