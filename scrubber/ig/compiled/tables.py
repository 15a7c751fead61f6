"""pyx12's implementation-guide maps, compiled once into plain Python tables.

:func:`load` reads the installed pyx12 package's ``837.5010.X222.A1.xml``,
``x12.control.00501.xml``, ``dataele.xml``, ``codes.xml`` and ``maps.xml``
with lxml and turns them into a tree of small slotted nodes:

* :class:`Loop` — usage, repeat, its children grouped by map position, and the
  counter slots to clear when the loop is entered again;
* :class:`Seg` — usage, max use, how it is told apart from its namesakes (the
  element and code list pyx12 matches on), its elements and X12 syntax rules;
* :class:`Comp` and :class:`Elem` — usage, data type, lengths, code set (the
  map's own codes plus any external code list), regex.

Every attribute is read the way pyx12's ``map_if`` reads it, so a node means
what pyx12's node means.  The compiled form is pickled under the user cache
directory, keyed by the bytes of the five files and of this module, and
loaded from there on later runs (a few milliseconds instead of about 0.4 s).
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from scrubber.cachedir import cache_dir

if TYPE_CHECKING:
    from lxml import etree  # imported where the maps are read: a run that loads the cached tables never needs it

MAXINT = 2147483647
MAP_837P = "837.5010.X222.A1.xml"
CONTROL_MAP = "x12.control.00501.xml"
_SOURCES = (MAP_837P, CONTROL_MAP, "dataele.xml", "codes.xml", "maps.xml")


class Node:
    __slots__ = ("id", "name", "usage", "parent", "path", "slot")
    id: str | None
    name: str | None
    usage: str | None
    parent: Node | None
    path: str
    slot: int

    def key(self) -> tuple[str | None, str | None]:
        """What pyx12's ``x12_node.__eq__`` compares: the ID and the parent's ID."""
        return self.id, self.parent.id if self.parent is not None else None


class Loop(Node):
    __slots__ = ("pos", "max_repeat", "groups", "first", "is_root", "clear")
    pos: int
    max_repeat: int
    groups: list[tuple[int, list[Node]]]
    first: Node | None
    is_root: bool
    clear: list[tuple[int, int]]

    def children(self) -> list[Node]:
        return [child for _, group in self.groups for child in group]


class Seg(Node):
    __slots__ = ("pos", "max_repeat", "match_at", "match_codes", "fields", "syntax", "bad_seq", "typed_values")
    pos: int
    max_repeat: int
    match_at: tuple[int, int] | None
    match_codes: frozenset[str | None]
    fields: list[Elem | Comp]
    syntax: list[tuple[str, tuple[int, ...]]]
    bad_seq: list[int]
    typed_values: bool


class Elem(Node):
    __slots__ = ("seq", "refdes", "data_ele", "composite", "composite_required", "data_type", "min_len", "max_len",
                 "codes", "first_code", "external", "external_codes", "regex_text", "defined")
    seq: int
    refdes: str | None
    data_ele: str | None
    composite: bool
    composite_required: bool
    data_type: str | None
    min_len: int
    max_len: int
    codes: frozenset[str | None]
    first_code: str | None
    external: str | None
    external_codes: frozenset[str | None] | None
    regex_text: str | None
    defined: bool


class Comp(Node):
    __slots__ = ("seq", "refdes", "data_ele", "subs")
    seq: int
    refdes: str | None
    data_ele: str | None
    subs: list[Elem]


@dataclass
class Tables:
    """Both maps, their nodes by path, the map index, the counter size, and where qualifiers are read.

    The maps are 5010 (ISA12 ``00501``), so text is checked against pyx12's 5010 extended character set.
    """

    transaction: Loop
    control: Loop
    map_index: dict[tuple[str | None, str | None, str | None], str]
    slots: int
    transaction_paths: dict[str, Node]
    control_paths: dict[str, Node]
    #: for each segment ID, every (element, component) some map segment of that ID reads its qualifier at
    qualifiers: dict[str, tuple[tuple[int, int], ...]]


#: Compiled tables the cache keeps: these and the last written by other versions.  Two installs of different
#: versions on one machine (a staging and a production environment, a test checkout) each keep theirs, instead of
#: each run evicting the other's and compiling the maps again (0.3-0.4 s).
KEPT = 4


def load() -> Tables:
    """The compiled tables, from the cache when it matches the installed pyx12."""
    root = files("pyx12").joinpath("map")
    digest = hashlib.sha256(Path(__file__).read_bytes())  # this compiler and its node classes
    for name in _SOURCES:
        digest.update(root.joinpath(name).read_bytes())
    cache = cache_dir() / f"x222a1-{digest.hexdigest()[:16]}.pickle"
    try:
        with open(cache, "rb") as fh:
            tables = pickle.load(fh)
        if isinstance(tables, Tables):
            return tables
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    tables = compile_tables()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(tables, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cache)
        others = sorted((p for p in cache.parent.glob("x222a1-*.pickle") if p != cache),
                        key=lambda p: p.stat().st_mtime, reverse=True)
        for old in others[KEPT - 1:]:  # tables of an earlier pyx12 or scrubber
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only home still validates, only slower to start
    return tables




def compile_tables() -> Tables:
    from lxml import etree

    root = files("pyx12").joinpath("map")

    def parse(name: str) -> etree._Element:
        return etree.fromstring(root.joinpath(name).read_bytes())

    data_elements = {
        e.get("ele_num"): (e.get("data_type"), int(e.get("min_len")), int(e.get("max_len")), e.get("name"))
        for e in parse("dataele.xml").iter("data_ele")
    }
    codesets = {
        c.findtext("id"): frozenset(code.text for code in c.iterfind("version/code"))
        for c in parse("codes.xml").iter("codeset")
    }
    map_index: dict[tuple[str | None, str | None, str | None], str] = {}
    for version in parse("maps.xml").iter("version"):
        for entry in version.iterfind("map"):
            map_index.setdefault((version.get("icvn"), entry.get("vriic"), entry.get("fic")), entry.text or "")
    builder = _Builder(data_elements, codesets)
    transaction = builder.root(parse(MAP_837P))
    control = builder.root(parse(CONTROL_MAP))
    for tree in (transaction, control):
        builder.assign_clear_ranges(tree)
    transaction_paths, control_paths = nodes_by_path(transaction), nodes_by_path(control)
    places: dict[str, set[tuple[int, int]]] = {}
    for node in (*transaction_paths.values(), *control_paths.values()):
        if isinstance(node, Seg) and node.match_at is not None:
            places.setdefault(node.id or "", set()).add(node.match_at)
    qualifiers = {sid: tuple(sorted(found)) for sid, found in places.items()}
    return Tables(transaction, control, map_index, len(builder.slots), transaction_paths, control_paths, qualifiers)


def nodes_by_path(root: Loop) -> dict[str, Node]:
    """Every loop and segment below ``root``, by its pyx12 path (``/ISA_LOOP/GS_LOOP/ST_LOOP/HEADER/BHT``)."""
    out: dict[str, Node] = {}

    def walk(loop: Loop) -> None:
        for child in loop.children():
            out[child.path] = child
            if isinstance(child, Loop):
                walk(child)

    walk(root)
    return out


def _text(elem: etree._Element, name: str) -> str | None:
    """An attribute, else a child's text — how pyx12's map_if reads every field."""
    value = elem.get(name)
    return value if value else elem.findtext(name)


class _Builder:
    def __init__(self, data_elements: dict[str | None, tuple[str | None, int, int, str | None]],
                 codesets: dict[str | None, frozenset[str | None]]) -> None:
        self.data_elements = data_elements
        self.codesets = codesets
        self.slots: dict[str, int] = {}

    def slot(self, path: str) -> int:
        return self.slots.setdefault(path, len(self.slots))

    def root(self, elem: etree._Element) -> Loop:
        node = Loop()
        node.id, node.name, node.usage, node.parent = elem.get("xid"), _text(elem, "name"), None, None
        node.path, node.slot, node.pos, node.max_repeat, node.is_root = "/", -1, 0, MAXINT, True
        self._children(node, elem)
        for child in node.children():
            self._place(child)
        return node

    def _children(self, node: Loop, elem: etree._Element) -> None:
        by_pos: dict[int, list[Node]] = {}
        for child in elem.findall("loop"):
            loop = self.loop(node, child)
            by_pos.setdefault(loop.pos, []).append(loop)
        segs = []
        for child in elem.findall("segment"):
            seg = self.segment(node, child)
            by_pos.setdefault(seg.pos, []).append(seg)
            segs.append(seg)
        # pyx12 tells segments that share a position apart in their path by their first code
        for pos in sorted(by_pos):
            if len(by_pos[pos]) > 1:
                for seg in (n for n in by_pos[pos] if isinstance(n, Seg)):
                    first = _guess_key_codes(seg)
                    if first is not None:
                        seg.path = f"{seg.path}[{first or ''}]"
        node.groups = [(pos, by_pos[pos]) for pos in sorted(by_pos)]
        node.first = node.groups[0][1][0] if node.groups else None

    def _place(self, node: Node) -> None:
        parent_path = node.parent.path if node.parent is not None else "/"
        local = node.path
        node.path = f"/{local}" if parent_path == "/" else f"{parent_path}/{local}"
        node.slot = self.slot(node.path)
        if isinstance(node, Loop):
            for _, group in node.groups:
                for child in group:
                    self._place(child)

    def loop(self, parent: Loop, elem: etree._Element) -> Loop:
        node = Loop()
        node.id, node.name, node.usage, node.parent = elem.get("xid"), _text(elem, "name"), _text(elem, "usage"), parent
        node.path, node.slot, node.is_root = node.id or "", -1, False
        node.pos = int(_text(elem, "pos") or 0)
        repeat = _text(elem, "repeat")
        node.max_repeat = MAXINT if repeat in (None, ">1", "&gt;1") else int(repeat)
        self._children(node, elem)
        return node

    def segment(self, parent: Loop, elem: etree._Element) -> Seg:
        node = Seg()
        node.id, node.name, node.usage, node.parent = elem.get("xid"), _text(elem, "name"), _text(elem, "usage"), parent
        node.path, node.slot = node.id or "", -1
        node.pos = int(_text(elem, "pos") or 0)
        max_use = _text(elem, "max_use")
        node.max_repeat = MAXINT if max_use in (None, ">1") else int(max_use)
        node.syntax = []
        for s in elem.findall("syntax"):
            text = s.text
            if text and text[0] in "PRCLE":
                node.syntax.append((text[0], tuple(int(text[i * 2 + 1:i * 2 + 3]) for i in range(len(text[1:]) // 2))))
        by_seq: dict[int, etree._Element] = {}
        for e in elem.findall("element"):
            by_seq[int(_text(e, "seq") or 0)] = e
        for e in elem.findall("composite"):
            by_seq[int(_text(e, "seq") or 0)] = e
        node.fields = []
        for seq in sorted(by_seq):
            e = by_seq[seq]
            node.fields.append(self.element(node, e) if e.tag == "element" else self.composite(node, e))
        # pyx12 finds a child by seq == index + 1 and fails when the numbering has a gap
        node.bad_seq = [i for i, f in enumerate(node.fields) if f.seq != i + 1]
        # an element whose type a qualifier gives (DTP03 by DTP02; a 1251 value by a 1250 before it)
        node.typed_values = node.id == "DTP" or any(getattr(f, "data_ele", None) == "1250" for f in node.fields)
        node.match_at, node.match_codes = _match_key(node)
        return node

    def composite(self, parent: Seg, elem: etree._Element) -> Comp:
        node = Comp()
        node.id, node.name, node.usage, node.parent = elem.get("xid"), _text(elem, "name"), _text(elem, "usage"), parent
        node.path, node.slot = "", -1
        node.refdes = elem.findtext("refdes") or node.id
        node.data_ele = _text(elem, "data_ele")
        node.seq = int(_text(elem, "seq") or 0)
        node.subs = [self.element(node, e) for e in elem.findall("element")]
        return node

    def element(self, parent: Seg | Comp, elem: etree._Element) -> Elem:
        node = Elem()
        node.id, node.name, node.usage, node.parent = elem.get("xid"), _text(elem, "name"), _text(elem, "usage"), parent
        node.path, node.slot = "", -1
        node.refdes = node.id
        node.data_ele = _text(elem, "data_ele")
        node.seq = int(_text(elem, "seq") or 0)
        node.composite = isinstance(parent, Comp)
        node.composite_required = isinstance(parent, Comp) and parent.usage == "R"
        definition = self.data_elements.get(node.data_ele) if node.data_ele else None
        node.defined = definition is not None
        node.data_type, node.min_len, node.max_len = definition[:3] if definition else (None, 0, 0)
        node.regex_text = elem.findtext("regex") or None  # compiled when first used (fields.check_element)
        codes: list[str | None] = []
        node.external = None
        valid = elem.find("valid_codes")
        if valid is not None:
            node.external = valid.get("external")
            codes = [c.text for c in valid.findall("code")]
        node.codes = frozenset(codes)
        node.first_code = codes[0] if codes else None
        node.external_codes = self.codesets.get(node.external) if node.external else None
        return node

    def assign_clear_ranges(self, root: Loop) -> None:
        """For each loop, the counter slots pyx12's ``reset_to_node`` clears: every path below it."""
        paths = sorted(self.slots.items(), key=lambda item: item[1])

        def walk(loop: Loop) -> None:
            prefix = loop.path.rstrip("/").split("/")
            depth = len(prefix)
            slots = sorted(slot for path, slot in paths
                           if len(parts := path.split("/")) > depth and parts[:depth] == prefix)
            ranges: list[tuple[int, int]] = []
            for slot in slots:
                if ranges and ranges[-1][1] == slot:
                    ranges[-1] = (ranges[-1][0], slot + 1)
                else:
                    ranges.append((slot, slot + 1))
            loop.clear = ranges
            for child in loop.children():
                if isinstance(child, Loop):
                    walk(child)

        walk(root)


def _first_codes(field: Elem | Comp | None, *, kind: str | None = "ID") -> Elem | None:
    if isinstance(field, Elem) and (kind is None or field.data_type == kind) and field.codes:
        return field
    return None


def _match_key(seg: Seg) -> tuple[tuple[int, int] | None, frozenset[str | None]]:
    """pyx12's ``segment_if._resolve_unique_key_field(with_qual=False)``: where the qualifier is read."""
    c = seg.fields
    c0 = c[0] if len(c) > 0 else None
    c1 = c[1] if len(c) > 1 else None
    c2 = c[2] if len(c) > 2 else None
    if isinstance(c0, Elem) and c0.data_type == "ID" and c0.usage == "R" and c0.codes:
        return (1, 0), c0.codes
    if seg.id == "ENT" and _first_codes(c1) is not None:
        return (2, 0), c1.codes  # type: ignore[union-attr]  # _first_codes(c1) returned it, so c1 is an Elem
    if seg.id == "CTX" and isinstance(c0, Comp) and c0.subs[0].data_type == "AN" and c0.subs[0].codes:
        return (1, 1), c0.subs[0].codes
    if isinstance(c0, Comp) and c0.subs[0].data_type == "ID" and c0.subs[0].codes:
        return (1, 1), c0.subs[0].codes
    if seg.id == "HL" and isinstance(c2, Elem) and c2.codes:
        return (3, 0), c2.codes
    return None, frozenset()


def _guess_key_codes(seg: Seg) -> str | None:
    """pyx12's ``guess_unique_key_id_element``: the first code of the qualifier, for the node's path."""
    c = seg.fields
    c0 = c[0] if len(c) > 0 else None
    c1 = c[1] if len(c) > 1 else None
    c2 = c[2] if len(c) > 2 else None
    element: Elem | None = None
    if _first_codes(c0) is not None:
        element = c0  # type: ignore[assignment]  # checked to be an Elem with codes above
    elif seg.id == "ENT" and _first_codes(c1) is not None:
        element = c1  # type: ignore[assignment]  # checked to be an Elem with codes above
    elif isinstance(c0, Comp) and c0.subs[0].data_type == "ID" and c0.subs[0].codes:
        element = c0.subs[0]
    elif seg.id == "HL" and isinstance(c2, Elem) and c2.codes:
        element = c2
    if element is None:
        return None
    return element.first_code
