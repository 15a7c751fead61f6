"""The HTML builder of the reports: every text and attribute passes through :func:`xml_safe`."""

from __future__ import annotations

from typing import Any

from lxml import html
from lxml.builder import ElementMaker

from scrubber.textsafe import xml_safe


def _add_text(element: Any, text: str) -> None:
    """Append ``text`` (made XML-safe) after the element's last child, as lxml's builder does."""
    text = xml_safe(text)
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


def _set_attributes(element: Any, attributes: dict[str, str]) -> None:
    for key, value in attributes.items():
        element.set(key, xml_safe(value))


class _HtmlMaker(ElementMaker):
    """lxml's HTML builder with every text and attribute passed through :func:`xml_safe`:
    the one escaping path of the HTML report (``H.td("…")``, ``H.TD`` alike)."""

    def __call__(self, tag: str, *children: Any, **attributes: str) -> Any:
        return super().__call__(tag.lower(), *children, **attributes)


H = _HtmlMaker(makeelement=html.html_parser.makeelement, typemap={str: _add_text, dict: _set_attributes})


def css_class(name: str) -> dict[str, str]:
    """The ``class`` attribute, for the builder."""
    return {"class": name}
