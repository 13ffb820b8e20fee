"""How a page lays out, measured in the browser: the sizes the browser tests use, whether
anything is wider than the screen, and which touch targets are smaller than 44 × 44 CSS
pixels (WCAG 2.5.5). One way of checking for every browser test."""

DESKTOP = {"viewport": {"width": 1280, "height": 800}}


def phone(width: int, height: int) -> dict:
    """Browser context options of a phone ``width`` × ``height`` CSS pixels wide (touch, 2× pixels)."""
    return {
        "viewport": {"width": width, "height": height},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    }


# The journeys' two sizes, and the phones every page must fit (from 360 px wide).
SIZES = {"desktop": DESKTOP, "phone": phone(390, 844)}
PHONES = {"360": phone(360, 740), "390": phone(390, 844)}
MIN_TARGET = 44

# The page's width and the elements that stick out past ``limit`` (the screen's width):
# tables, and the innermost elements that do.
_OVERFLOW = """limit => {
  const out = el => el.getBoundingClientRect().right > limit + 0.5;
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/ +/).join('.') : '');
  const wide = [...document.querySelectorAll('body *')]
    .filter(el => out(el) && (el.tagName === 'TABLE' || ![...el.children].some(out)))
    .slice(0, 6)
    .map(name);
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, wide};
}"""

# The visible interactive elements smaller than ``min`` in either direction. A checkbox or
# radio button counts with its labels (a tap on the label ticks it). Left out: disabled
# elements, what is not rendered (a closed menu), visually hidden or off-screen elements
# (the skip link until it has the focus) and links in running text (a link in a sentence of
# a paragraph, as WCAG allows); never left out: links in navigation and table cells.
_SMALL_TARGETS = """min => {
  const SELECTOR = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [tabindex]:not([tabindex="-1"])';
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/ +/).join('.') : '');
  const inline = el => ['inline', 'contents'].includes(getComputedStyle(el).display);
  const inSentence = el => {
    if (el.tagName !== 'A' || !inline(el) || el.closest('nav, td, th, .pagination, .breadcrumbs')) return false;
    let block = el.parentElement;
    while (block && inline(block)) block = block.parentElement;
    if (!block) return false;
    const text = block.cloneNode(true);
    text.querySelectorAll(SELECTOR).forEach(node => node.remove());
    return /[\\p{L}\\p{N}]/u.test(text.textContent);
  };
  const box = el => {
    const rects = [el.getBoundingClientRect()];
    if (['checkbox', 'radio'].includes(el.type) && el.labels) {
      rects.push(...[...el.labels].map(label => label.getBoundingClientRect()).filter(r => r.width && r.height));
    }
    const left = Math.min(...rects.map(r => r.left)), right = Math.max(...rects.map(r => r.right));
    const top = Math.min(...rects.map(r => r.top)), bottom = Math.max(...rects.map(r => r.bottom));
    return {width: right - left, height: bottom - top};
  };
  const small = [];
  for (const el of document.querySelectorAll(SELECTOR)) {
    if (el.disabled || !el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1 || r.right + window.scrollX <= 0 || r.bottom + window.scrollY <= 0) continue;
    if (inSentence(el)) continue;
    const {width, height} = box(el);
    if (width + 0.5 < min || height + 0.5 < min) {
      const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().replace(/\\s+/g, ' ').slice(0, 30);
      small.push(`${name(el)} "${text}" ${Math.round(width)}×${Math.round(height)}`);
    }
  }
  return small;
}"""


_BOTH = f"args => ({{overflow: ({_OVERFLOW})(args.width), small: ({_SMALL_TARGETS})(args.min)}})"


def _width(page) -> int:
    return page.viewport_size["width"]


def _overflow_problem(found: dict, width: int, where: str, url: str) -> str:
    # A page wider than a phone makes mobile Chromium zoom out, so ``innerWidth`` grows with it.
    if found["innerWidth"] == width and found["scrollWidth"] <= found["innerWidth"]:
        return ""
    return (
        f"{where} ({url}) overflows horizontally at {width}px: document.documentElement.scrollWidth "
        f"{found['scrollWidth']}, window.innerWidth {found['innerWidth']}; sticking out: {', '.join(found['wide'])}"
    )


def _touch_problem(small: list, width: int, where: str, url: str) -> str:
    if not small:
        return ""
    return f"{where} ({url}) at {width}px has touch targets under {MIN_TARGET}px: {'; '.join(small)}"


def overflow(page, where: str = "") -> str:
    """What sticks out horizontally, or "" when nothing does."""
    width = _width(page)
    return _overflow_problem(page.evaluate(_OVERFLOW, width), width, where, page.url)


def small_targets(page) -> list[str]:
    """The visible touch targets smaller than 44 × 44 CSS pixels, described."""
    return page.evaluate(_SMALL_TARGETS, MIN_TARGET)


def touch_problem(page, where: str = "") -> str:
    """The touch targets under 44 px, or "" when there are none."""
    return _touch_problem(small_targets(page), _width(page), where, page.url)


def phone_problems(page, where: str = "") -> list[str]:
    """What sticks out and the touch targets under 44 px (one measurement of the page)."""
    width = _width(page)
    found = page.evaluate(_BOTH, {"width": width, "min": MIN_TARGET})
    problems = (
        _overflow_problem(found["overflow"], width, where, page.url),
        _touch_problem(found["small"], width, where, page.url),
    )
    return [problem for problem in problems if problem]


def nothing_overflows(page, where: str = ""):
    problem = overflow(page, where)
    assert not problem, problem


def fits_a_phone(page, where: str = ""):
    """Nothing wider than the screen, and no touch target under 44 px."""
    problems = phone_problems(page, where)
    assert not problems, "\n".join(problems)
