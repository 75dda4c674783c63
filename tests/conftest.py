"""Every subprocess a test starts (the `pilotproof` console script, `streamlit run`) imports the
checkout under test: the console script alone would import whichever checkout the virtual
environment was installed from (an editable install of another worktree)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_path = os.environ.get("PYTHONPATH", "")
if str(ROOT) not in _path.split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), _path) if p)
