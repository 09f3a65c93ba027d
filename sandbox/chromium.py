"""How to launch Debian's Chromium headless on these machines (browser tests, screenshots).

Playwright's own browser download does not work here; Debian's package does. Without the
background-networking flags Chromium keeps trying to reach Google's hosts through a closed
network.
"""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("MINESYNC_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
