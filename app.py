"""`python app.py` starts the kotae web chat (see `qa serve` for options)."""

from qa.config import Settings
from qa.ui import launch

if __name__ == "__main__":
    launch(Settings.load())
