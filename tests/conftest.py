"""A page that fails shows Streamlit's own error box in every test (`PILOTPROOF_DEBUG`), so
`AppTest.exception` and the browser tests' `stException` still see a defect; the partner's
message in its place is tested on its own (tests/pages/test_unexpected_error.py).

Every subprocess a test starts (the `pilotproof` console script, `streamlit run`) imports the
checkout under test: the console script alone would import whichever checkout the virtual
environment was installed from (an editable install of another worktree)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_path = os.environ.get("PYTHONPATH", "")
if str(ROOT) not in _path.split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), _path) if p)
os.environ["PILOTPROOF_DEBUG"] = "1"
