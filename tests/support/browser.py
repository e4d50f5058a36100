"""A built kedro-viz site served on loopback and opened in headless Chromium.

Chromium is Debian's (`apt-get install chromium`, done by `.ci/run`), driven by
Playwright through ``executable_path``: Playwright never downloads a browser
here. Every request that is not for the served site is aborted, so a page that
wants fonts or analytics from the internet still loads, offline, as it would on
a laptop without network.

Refresh the README's pictures from a built site (``kedro viz build
--include-previews`` after ``kedro run``)::

    uv run python -m tests.support.browser <project>/build docs/
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: The browser binary (Debian's package); WAVESHARD_CHROMIUM points elsewhere.
CHROMIUM = os.environ.get("WAVESHARD_CHROMIUM", "/usr/bin/chromium")
#: Flags that keep headless Chromium quiet and local in a container run as root.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1600, "height": 1000}
#: How long the page may take to draw the flowchart (ms); generous for a loaded machine.
LOAD_TIMEOUT_MS = 60_000


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # the test reports failures
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a free port); yields the site's URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def chromium(**context_options: Any) -> Iterator[Any]:
    """A headless Chromium context with a fresh profile, removed afterwards.

    Args:
        context_options: Playwright context options (e.g. ``viewport``).
    """
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        raise FileNotFoundError(
            f"No Chromium at {CHROMIUM}: `apt-get install -y chromium` (as .ci/run does), "
            "or set WAVESHARD_CHROMIUM to a Chromium binary."
        )
    profile = tempfile.mkdtemp(prefix="waveshard-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=list(CHROMIUM_FLAGS),
                **{"viewport": VIEWPORT, **context_options},
            )
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


#: kedro-viz keeps its settings in localStorage["KedroViz"]; with feature hints off, no
#: tour pops up (after a delay) over the flowchart a test clicks in.
NO_FEATURE_HINTS = (
    "window.localStorage.setItem('KedroViz', JSON.stringify({showFeatureHints: false}))"
)


def open_flowchart(context: Any, url: str) -> Any:
    """Open the site's flowchart, offline, without kedro-viz's feature tour."""
    page = context.new_page()
    page.add_init_script(NO_FEATURE_HINTS)
    page.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(url) else route.abort(),
    )
    page.goto(url)
    page.wait_for_selector(".pipeline-node--task", timeout=LOAD_TIMEOUT_MS)
    return page


def open_dataset(page: Any, name: str) -> Any:
    """Click a dataset in the flowchart; returns its metadata panel."""
    page.locator(".pipeline-node--data", has_text=name).first.click(force=True)
    panel = page.locator(".pipeline-metadata--visible")
    panel.locator(".pipeline-metadata__title", has_text=name).wait_for(timeout=LOAD_TIMEOUT_MS)
    return panel


def main(argv: list[str]) -> int:
    """Write the README's flowchart screenshot from a built site."""
    if len(argv) != 2:
        print(__doc__)
        return 2
    site, docs = Path(argv[0]), Path(argv[1])
    picture = {"width": 1500, "height": 760}
    with serve(site) as url, chromium(viewport=picture, device_scale_factor=1.5) as context:
        page = open_flowchart(context, url)
        # The flowchart alone, as large as the window allows.
        for label in ("Hide menu", "Turn minimap off", "Reset zoom", "Zoom out"):
            page.get_by_role("button", name=label).click()
            page.wait_for_timeout(1000)  # panels slide and the graph animates into place
        page.mouse.move(picture["width"] - 1, 1)  # no tooltip in the picture
        page.wait_for_timeout(500)
        page.screenshot(path=str(docs / "kedro-viz-flowchart.png"))
    print(f"Wrote {docs / 'kedro-viz-flowchart.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
