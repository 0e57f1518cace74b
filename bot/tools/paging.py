"""A person's table, a page at a time: page n of a list is MAX_ROWS rows (or `limit`, when smaller), and
a table with rows after it carries `more`, the same read with the next `page` (a "Show more" button, or
`more` / `<list command> page n` typed). The model's `data` keeps its own budget (`fit_list`).

One place for every list tool, so paging reads the same everywhere; the command a person types for the
next page is spelled by the core from the command grammar (bot/more.py), not here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from bot.tools.render import MAX_ROWS, cell
from bot.types import MoreRows, TablePart

T = TypeVar("T")

MAX_PAGE = 200  # 10,000 objects (the largest inventory) at 50 a page
PAGE_HELP = f"which page of the table a person sees ({MAX_ROWS} rows a page); 1 = the first"


def page_field() -> Any:
    """The `page` argument every list tool takes."""
    return Field(1, ge=1, le=MAX_PAGE, description=PAGE_HELP)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of `total` items: `items` start at `start` (0-based); `left` come after them."""

    items: list[T]
    number: int
    size: int
    total: int

    @property
    def start(self) -> int:
        return (self.number - 1) * self.size

    @property
    def left(self) -> int:
        return max(0, self.total - self.start - len(self.items))

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def page_size(limit: int | None = None) -> int:
    """Rows a page: MAX_ROWS, or fewer when the person asked for fewer (`limit 5`)."""
    return max(1, min(limit or MAX_ROWS, MAX_ROWS))


def asked_limit(args: BaseModel) -> int | None:
    """The `limit` the caller gave, or None for the tool's default (which is the model's budget, not
    the person's page)."""
    return getattr(args, "limit", None) if "limit" in args.model_fields_set else None


def page_of(found: Sequence[T], args: BaseModel) -> Page[T]:
    """Page `args.page` of `found`, `page_size(asked_limit(args))` items a page."""
    size = page_size(asked_limit(args))
    number = int(getattr(args, "page", 1))
    start = (number - 1) * size
    return Page(items=list(found[start : start + size]), number=number, size=size, total=len(found))


def model_items(found: Sequence[T], page: Page[Any], limit: int) -> list[T]:
    """What the model is given: up to `limit` items from where the person's page starts (page 1: the
    first `limit`, as before paging), trimmed to its budget by `fit_list`."""
    return list(found[page.start : page.start + limit])


def page_note(page: Page[Any]) -> dict[str, Any]:
    """What the model's `data` says of the page: nothing on the first (as before paging)."""
    return {"page": page.number, "pages": page.pages} if page.number > 1 else {}


def next_arguments(args: BaseModel, page: int) -> dict[str, Any]:
    """The same call's arguments as given (defaults left out) with another `page`."""
    out = args.model_dump(mode="json", exclude_none=True, exclude_unset=True)
    out["page"] = page
    return out


def paged_table(
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    page: Page[Any],
    *,
    tool: str,
    args: BaseModel,
) -> TablePart:
    """The page's rows as a table; "and N more" counts the rows after this page, and `more` asks for
    the next one with the same filters."""
    cells = [[cell(c) for c in row] for row in rows][: page.size]
    if page.number > 1 and not cells:
        pages = f"{page.pages} page" + ("s" if page.pages > 1 else "")
        title = f"{title}: page {page.number} is past the end ({pages})"
    elif page.number > 1 or page.left:
        title = f"{title} (rows {page.start + 1}-{page.start + len(cells)})"
    more = None
    if page.left:
        more = MoreRows(
            tool=tool,
            arguments=next_arguments(args, page.number + 1),
            label=f"Show {min(page.left, page.size)} more",
        )
    return TablePart(
        title=title,
        columns=list(columns),
        rows=cells,
        total=len(cells) + page.left if page.left else None,
        more=more,
    )
