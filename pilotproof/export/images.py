"""Static PNGs of plotly figures through kaleido, every figure in ONE browser session.

Kaleido starts a headless Chromium per session, which costs seconds; a report with twenty
charts rendered one `to_image` call at a time would start twenty browsers. Here one
`kaleido.Kaleido` context renders them all and reports progress after each figure.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import queue
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

from pilotproof import charts

log = logging.getLogger(__name__)
# Kaleido's browser driver logs its own protocol chatter, tracebacks included, when a read of
# Chromium's pipe ends mid-message under load ("JSONError decoding message. Ignoring": it skips
# the fragment and carries on). A user's terminal is no place for it; a render that fails is
# reported by `render_pngs` itself, with the figure it was drawing.
logging.getLogger("choreographer").setLevel(logging.CRITICAL)
TABS = 2  # browser tabs rendering at once; more buys nothing on a small machine
# Nothing leaves the machine. Kaleido's page loads MathJax from a CDN unless told not to (our
# figures use no LaTeX), and Chromium calls out on its own (component updates at
# clients2.google.com, the default search engine's prefetch): every request it makes goes to a
# proxy on a closed local port instead. The page and plotly.js are local files, not proxied.
OFFLINE = {"mathjax": False, "proxy_server": "http://127.0.0.1:9"}
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class FigureSpec:
    figure: go.Figure
    width: int
    height: int


@dataclass(frozen=True)
class Rendered:
    """PNG bytes per figure (None where rendering failed) and, per figure, why it failed
    ("" where it did not). `problem` is set when no figure could be rendered at all."""

    pngs: tuple[bytes | None, ...]
    problem: str = ""
    problems: tuple[str, ...] = ()

    def why(self, index: int) -> str:
        """Why figure `index` has no image ("" if it has one)."""
        if self.pngs[index] is not None:
            return ""
        found = self.problems[index] if index < len(self.problems) else ""
        return found or self.problem or "no image"


def render_pngs(
    specs: Sequence[FigureSpec],
    progress: Progress | None = None,
    scale: float = 2.0,
    compact_pngs: bool = True,
) -> Rendered:
    """Render every figure, on a white print theme, in a single kaleido session."""
    if not specs:
        return Rendered(())
    _point_at_chromium()
    step = progress or (lambda fraction, text: None)
    events: queue.Queue[tuple[str, object, str]] = queue.Queue()

    async def run() -> list[bytes | Exception]:
        import kaleido

        done = 0
        tabs = max(1, min(TABS, len(specs), os.cpu_count() or 1))
        async with kaleido.Kaleido(n=tabs, timeout=120, **OFFLINE) as session:

            async def one(spec: FigureSpec) -> bytes | Exception:
                nonlocal done
                png = await _png(session, spec, scale)
                done += 1
                events.put(("progress", done / len(specs), f"Chart {done} of {len(specs)}"))
                return png

            # the session hands each figure to a free tab; gather keeps the input order
            pngs = list(await asyncio.gather(*(one(spec) for spec in specs)))
        # a tab whose page had not finished loading kaleido's script fails its figure
        # ("kaleido_scopes is not defined", seen under load): the failed figures are tried
        # once more, one at a time, in a fresh session
        failed = [i for i, png in enumerate(pngs) if isinstance(png, Exception)]
        if failed:
            async with kaleido.Kaleido(n=1, timeout=120, **OFFLINE) as retry:
                for i in failed:
                    pngs[i] = await _png(retry, specs[i], scale)
        return pngs

    def target() -> None:
        try:
            events.put(("pngs", asyncio.run(run()), ""))
        except Exception as error:  # kaleido/choreographer raise many kinds; report any
            events.put(("error", error, ""))

    # asyncio.run needs a thread without a running event loop (Streamlit may have one), and
    # progress is reported from the caller's thread, where Streamlit can draw it.
    worker = threading.Thread(target=target, name="kaleido-render", daemon=True)
    worker.start()
    outcome: dict[str, object] = {}
    while not outcome:
        kind, value, text = events.get()
        if kind == "progress":
            step(value, text)  # type: ignore[arg-type]
        else:
            outcome[kind] = value
    worker.join()
    if "error" in outcome:
        error = outcome["error"]
        log.warning("chart images could not be rendered: %s", error)
        reason = f"chart images unavailable ({_reason(error)})"  # type: ignore[arg-type]
        return Rendered((None,) * len(specs), reason[:300])
    images: list[bytes | None] = []
    problems: list[str] = []
    for png in outcome["pngs"]:  # type: ignore[union-attr]
        if isinstance(png, Exception) or not png:
            log.warning("a chart image could not be rendered: %s", png)
            images.append(None)
            problems.append(_reason(png) if isinstance(png, Exception) else "empty image")
        else:
            images.append(compact(png) if compact_pngs else png)
            problems.append("")
    return Rendered(tuple(images), problems=tuple(problems))


async def _png(session, spec: FigureSpec, scale: float) -> bytes | Exception:
    """One figure's PNG from a kaleido session, or the exception it raised: a figure that
    fails is that figure's failure only, the others still render."""
    opts = {"format": "png", "width": spec.width, "height": spec.height, "scale": scale}
    try:
        return await session.calc_fig(charts.for_print(spec.figure), opts=opts)
    except Exception as error:  # kaleido raises many kinds; report any
        return error


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]


def compact(png: bytes, colors: int = 64) -> bytes:
    """The PNG reduced to a 64-colour palette: charts are flat colours, so it looks the same
    at about a third of the size (a 14-pilot PDF drops from ~5 MB to ~1.5 MB)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    reduced = image.quantize(colors=colors, method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    reduced.save(buffer, "PNG")
    return buffer.getvalue()


def _point_at_chromium() -> None:
    """Kaleido finds Chrome itself; on Debian the browser is `chromium`, so say where it is."""
    if os.environ.get("BROWSER_PATH"):
        return
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            os.environ["BROWSER_PATH"] = found
            return
