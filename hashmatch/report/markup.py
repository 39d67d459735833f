"""Safe HTML building: every value is escaped unless it is already ``Markup``.

Evidence-derived text is hostile. ``escape`` HTML-escapes it (quotes included) after
``safetext.visible`` has turned control characters and bidirectional overrides into
visible ``\\uXXXX`` escapes.
"""

from __future__ import annotations

import html

from hashmatch.safetext import visible


class Markup(str):
    """A string that is already safe HTML."""

    __slots__ = ()


def escape(value: object) -> Markup:
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(visible("" if value is None else str(value)), quote=True))


def join(parts: list[Markup] | tuple[Markup, ...]) -> Markup:
    return Markup("".join(escape(p) for p in parts))


def element(tag: str, *children: object, **attributes: object) -> Markup:
    """``<tag attr="...">children</tag>``; attribute names end in ``_`` to dodge keywords."""
    attrs = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(value)}"'
        for name, value in attributes.items()
        if value is not None and value is not False
    )
    body = "".join(escape(child) for child in children)
    return Markup(f"<{tag}{attrs}>{body}</{tag}>")


def table(headers: tuple[str, ...], rows: list[list[object]], **attributes: object) -> Markup:
    head = element("thead", element("tr", *(element("th", h) for h in headers)))
    body = element("tbody", *(element("tr", *(element("td", c) for c in row)) for row in rows))
    return element("table", head, body, **attributes)
