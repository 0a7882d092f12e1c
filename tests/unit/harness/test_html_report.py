"""``report.html``: what it shows, parsed as a browser would read its markup, and that it
needs nothing from the network (the browser test in tests/browser opens it for real)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from harness.html_report import render_html
from harness.report_writer import write_reports
from tests.unit.harness.html_record import HOSTILE, html_record

VOID = {"meta", "br", "img", "link", "input", "hr"}


class Element:
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag, self.attrs, self.children, self.text = tag, attrs, [], ""

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


class Tree(HTMLParser):
    """The page as elements, attributes and text (what a browser builds, without styling)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.root = Element("document", {})
        self.stack = [self.root]
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        while len(self.stack) > 1 and self.stack.pop().tag != tag:
            pass

    def handle_data(self, data: str) -> None:
        self.stack[-1].text += data

    def by_id(self, ident: str) -> Element:
        [found] = [e for e in self.root.walk() if e.attrs.get("id") == ident]
        return found

    def with_class(self, name: str) -> list[Element]:
        return [e for e in self.root.walk() if name in e.classes]


def test_each_promise_has_its_verdict() -> None:
    tree = Tree(render_html(html_record()))
    verdicts = {
        n: next(e for e in tree.by_id(f"promise-{n}").walk() if "verdict" in e.classes)
        for n in (1, 2, 3, 4)
    }
    assert {n: v.all_text() for n, v in verdicts.items()} == {
        1: "PROVEN",
        2: "FAILED",
        3: "UNPROVEN",
        4: "UNPROVEN",
    }
    assert "FAILED" in verdicts[2].classes  # coloured by verdict
    assert "runs SageMaker training jobs" in tree.by_id("promise-3").all_text()
    assert tree.by_id("totals").all_text().startswith("FAIL on target local (exit 1)")


def test_matrix_cells_are_coloured_by_outcome_and_mismatch() -> None:
    tree = Tree(render_html(html_record()))
    cells = [e for e in tree.root.walk() if e.tag == "td" and "title" in e.attrs]
    marks = [(c.all_text(), c.classes - {"none"}) for c in cells]
    assert marks == [
        ("allow !", {"allow", "mismatch"}),
        ("deny", {"deny"}),
        ("allow ~", {"allow", "simulated"}),
        ("", set()),  # not probed
    ]
    [mismatch] = tree.with_class("mismatch")[1:]  # the first is the legend's
    assert "DIFFERS FROM THE ALLOW-LIST" in mismatch.attrs["title"]


def test_a_failure_shows_its_statements_fix_and_a_skip_its_reason() -> None:
    tree = Tree(render_html(html_record()))
    [failure] = tree.with_class("failure")
    text = failure.all_text()
    assert "test_direct_key_use[canary-b kms:Decrypt]" in text
    assert "Allow statement 'KeyUse' of key policy of arn:aws:kms:us-east-1:1:key/k" in text
    [fix] = [e for e in failure.walk() if "fix" in e.classes]
    assert "narrow Allow statement 'KeyUse'" in fix.all_text()
    cells = [e.all_text() for e in tree.root.walk() if e.tag == "td"]
    skip = cells.index("tests/integration/test_training.py::test_execution_succeeded")
    assert cells[skip + 1] == "target fake lacks a capability: runs SageMaker training jobs"
    assert cells[cells.index("deploy") + 1] == "1.5"


def test_text_is_escaped_and_nothing_is_fetched() -> None:
    page = render_html(html_record())
    tree = Tree(page)
    assert HOSTILE in tree.root.all_text()  # shown as text...
    tags = {e.tag for e in tree.root.walk()}
    assert not tags & {"script", "img", "link", "iframe", "object", "embed"}  # ...not as markup
    urls = [v for e in tree.root.walk() for k, v in e.attrs.items() if k in {"src", "href"}]
    assert urls == []
    styles = "".join(e.all_text() for e in tree.root.walk() if e.tag == "style")
    assert not re.search(r"url\(|@import|https?:", styles)


def test_every_run_writes_the_page_beside_the_other_reports(tmp_path: Path) -> None:
    written = write_reports(html_record(), tmp_path)
    assert tmp_path / "report.html" in written
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == render_html(html_record())
