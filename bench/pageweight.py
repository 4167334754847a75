"""The weight of a cold load of a page: its HTML and every stylesheet and script it links,
as served, and gzipped (level 6, as a proxy or CDN would send them). bench/run.py calls
``weigh`` with a signed-in opener on the list page; the target is 40 KB gzipped."""

from __future__ import annotations

import gzip
import re
import urllib.request
from dataclasses import dataclass
from urllib.parse import urljoin

TARGET_KB = 40
_ASSETS = re.compile(
    r'<link rel="stylesheet" href="([^"]+)"|<script[^>]* src="([^"]+)"', re.IGNORECASE
)


@dataclass
class Part:
    url: str
    raw: int
    gzipped: int


def weigh(opener: urllib.request.OpenerDirector, url: str) -> list[Part]:
    """The page at ``url`` and the CSS and JS it loads, each with its size."""
    html = opener.open(url).read()
    parts = [Part(url, len(html), len(gzip.compress(html, 6)))]
    for match in _ASSETS.finditer(html.decode()):
        asset = urljoin(url, match.group(1) or match.group(2))
        body = opener.open(asset).read()
        parts.append(Part(asset, len(body), len(gzip.compress(body, 6))))
    return parts


def report(parts: list[Part]) -> str:
    lines = [f"  {p.url.split('/', 3)[-1]:50} {p.raw / 1024:7.1f} KB  {p.gzipped / 1024:6.1f} KB gz"
             for p in parts]  # fmt: skip
    raw, gz = sum(p.raw for p in parts), sum(p.gzipped for p in parts)
    lines.append(f"  {'total':50} {raw / 1024:7.1f} KB  {gz / 1024:6.1f} KB gz "
                 f"(target {TARGET_KB} KB gz)")  # fmt: skip
    return "\n".join(lines)
