"""Whether a weights file can be downloaded now: one quick HEAD request per file, no retries."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from typing import Sequence
from urllib.parse import urlparse

HUB_PROBE_SECONDS = 3.0


def download_problems(urls: Sequence[str], timeout: float = HUB_PROBE_SECONDS) -> list[str | None]:
    """For each URL, why its file cannot be downloaded now, or None when a HEAD request succeeds.

    One request per file, all at once, with a timeout and no retries (a hub client retries for
    about a minute before giving up). It asks for the file itself, since a proxy or sandbox may
    answer for any host. Threads, because name resolution ignores socket timeouts.
    """
    outcomes: dict[int, str | None] = {}

    def probe(index: int, url: str) -> None:
        host = urlparse(url).hostname
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
                outcomes[index] = None
        except urllib.error.HTTPError as error:
            outcomes[index] = f"{host} answered HTTP {error.code} ({error.reason})"
        except (OSError, ValueError) as error:
            outcomes[index] = f"{host} cannot be reached ({getattr(error, 'reason', error)})"

    threads = [threading.Thread(target=probe, args=(index, url), daemon=True) for index, url in enumerate(urls)]
    deadline = time.monotonic() + timeout + 0.5
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [outcomes[index] if index in outcomes else
            f"{urlparse(url).hostname} did not answer within {timeout:.0f} s" for index, url in enumerate(urls)]
