"""`python app.py` starts the kotae web chat (see `qa serve` for options).

Torch's threads follow the same rule as in `qa serve` and every other entry point: see
qa.embedding.torch_threads (1, or OMP_NUM_THREADS when set).
"""

if __name__ == "__main__":
    from qa.config import Settings
    from qa.ui import launch

    launch(Settings.load())
