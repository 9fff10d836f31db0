"""Every public and admin page in a real Chromium on a phone (390x844), in English and Russian, with JavaScript:
no console error, nothing wider than the screen, and no axe-core (WCAG 2.0/2.1 A and AA) violation.

The pages are served under the site's own Content-Security-Policy, so a script or style the policy blocks shows up
as a console error; axe is evaluated through the DevTools protocol, which the page's policy does not govern.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Page

from tests.node_tools import axe_source
from tests.site_tour import FRAME_DOCUMENTS, PASSWORD, SUPERUSER, admin_pages, prepare_site, public_pages

# iframes: false — the only frames are the mail previews, sandboxed without scripts (axe could not run in them and
# would wait for them); the frame element itself (its title) is still checked.
AXE_RUN = """() => axe.run(document, {iframes: false, runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
  .then(result => result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' — ' + n.failureSummary.split('\\n').slice(0, 2).join(' '))})))"""
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '')
    + ' right=' + Math.round(e.getBoundingClientRect().right))"""
LOCALES = {"en": "en-US", "ru": "ru-RU", "uk": "uk-UA"}


@pytest.fixture
def served_app(make_app):
    """The app with the tour's data: demo content, accounts, signatures, live links, proposals."""
    app = make_app()
    app.config["TOUR_SITE"] = prepare_site(app)
    return app


class Checker:
    """Visit pages in one tab and collect every problem, so that one run reports them all."""

    def __init__(self, page: Page, language: str, artifacts_dir):
        self.page, self.language, self.artifacts = page, language, artifacts_dir
        self.problems: list[str] = []
        self.console: list[str] = []
        self.axe = axe_source()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console.append(f"uncaught: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.console.append(f"{message.type}: {message.text} ({message.location.get('url', '')})")

    def visit(self, name: str, path: str, status: int = 200) -> None:
        self.console.clear()
        response = self.page.goto(path)
        assert response is not None and response.status == status, (name, path, response and response.status)
        self.page.wait_for_load_state("load")
        self.check(name)

    def check(self, name: str) -> None:
        label = f"{name} [{self.language}]"
        if status_only := [m for m in self.console if "the server responded with a status of 404" in m
                           and self.page.url.split("#")[0] in m]:
            for message in status_only:  # the page's own expected 404 is not a fault of the page
                self.console.remove(message)
        self.problems += [f"{label}: console {m}" for m in self.console]
        overflow = self.page.evaluate(OVERFLOW)
        if overflow > 0:
            self.problems.append(f"{label}: {overflow}px wider than the screen: {self.page.evaluate(WIDEST)}")
            self.page.screenshot(path=self.artifacts / f"too-wide-{self.language}-{_slug(name)}.png", full_page=True)
        if not self.page.evaluate("typeof window.axe") == "function" and not self.page.evaluate("!!window.axe"):
            self.page.evaluate(self.axe)
        for violation in self.page.evaluate(AXE_RUN):
            self.problems.append(f"{label}: axe {violation['id']} ({violation['impact']}): {violation['help']}: "
                                 + "; ".join(violation["nodes"]))
        self.console.clear()


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name)[:60]


@pytest.fixture
def phone(browser, browser_context_args):
    """A phone-sized context in a given language (the plugin's new_context cannot change the locale)."""
    contexts = []

    def factory(language: str):
        contexts.append(browser.new_context(**{**browser_context_args, "locale": LOCALES[language]}))
        return contexts[-1]

    yield factory
    for context in contexts:
        context.close()


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
def test_every_public_page_has_no_console_error_fits_a_phone_and_passes_axe(phone, served_app, language,
                                                                             artifacts_dir):
    site = served_app.config["TOUR_SITE"]
    page = phone(language).new_page()
    checker = Checker(page, language, artifacts_dir)
    visits = public_pages(site)
    for visit in visits:
        checker.visit(visit.name, visit.path, visit.status)
    assert len(visits) > 20
    assert not checker.problems, f"{len(checker.problems)} problems:\n" + "\n".join(checker.problems)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_admin_page_has_no_console_error_fits_a_phone_and_passes_axe(phone, served_app, language,
                                                                            artifacts_dir):
    site = served_app.config["TOUR_SITE"]
    page = phone(language).new_page()
    checker = Checker(page, language, artifacts_dir)
    page.goto("/admin/login")
    page.locator("#email").fill(SUPERUSER)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.admin-form button[type=submit]").click()
    page.wait_for_url("**/admin/")
    visits = admin_pages(served_app, site)
    for visit in visits:
        if visit.name in FRAME_DOCUMENTS:  # shown inside a sandboxed frame of its page, which is checked
            continue
        checker.visit(visit.name, visit.path, visit.status)
        if visit.name in ("admin.signatures", "admin.audit_log", "admin.campaign", "admin.change_password"):
            page.screenshot(path=artifacts_dir / f"admin-{language}-{_slug(visit.name)}.png", full_page=True)
    assert len(visits) > 15
    assert not checker.problems, f"{len(checker.problems)} problems:\n" + "\n".join(checker.problems)


def _luminance(css_color: str) -> float:
    r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css_color)[:3])
    return sum(w * (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
               for w, c in zip((0.2126, 0.7152, 0.0722), (r, g, b), strict=True))


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_keyboard_focus_ring_on_the_purple_header_has_3_to_1_contrast(page: Page):
    page.goto("/")
    header_colour = page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor")
    rings = []
    for _ in range(3):  # the skip link (on white), then the header's links
        page.keyboard.press("Tab")
        rings.append(page.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
            return {inHeader: !!e.closest('.site-header'), style: s.outlineStyle, width: parseFloat(s.outlineWidth),
                    colour: s.outlineColor, text: e.textContent.trim()}; }"""))
    in_header = [ring for ring in rings if ring["inHeader"]]
    assert len(in_header) == 2, rings
    for ring in in_header:
        assert ring["style"] != "none" and ring["width"] >= 2, ring
        assert _contrast(ring["colour"], header_colour) >= 3, (ring, header_colour)


def test_admin_chart_text_is_readable_on_a_phone_and_a_single_day_is_labelled_under_its_bar(page: Page,
                                                                                             served_app):
    site = served_app.config["TOUR_SITE"]  # its four signatures were all made today: one day, one bar
    page.goto("/admin/login")
    page.locator("#email").fill(SUPERUSER)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.admin-form button[type=submit]").click()
    page.wait_for_url("**/admin/")
    page.goto(f"/admin/campaigns/{site.campaign_id}")
    chart = page.evaluate("""() => {
        const svg = document.querySelector('svg.chart'), scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        const texts = [...svg.querySelectorAll(':scope > text')];
        const bars = [...svg.querySelectorAll('g.bar rect[fill="#5b2a86"]')].map(r => r.getBoundingClientRect());
        const labels = texts.filter(t => t.getAttribute('y') == svg.viewBox.baseVal.height - 6).map(t => t.getBoundingClientRect());
        return {sizes: texts.map(t => parseFloat(getComputedStyle(t).fontSize) * scale),
                bars: bars.map(b => (b.left + b.right) / 2), labels: labels.map(l => (l.left + l.right) / 2)};
    }""")
    assert chart["sizes"] and min(chart["sizes"]) >= 14, chart["sizes"]
    assert len(chart["bars"]) == 1 and len(chart["labels"]) == 1, chart
    assert abs(chart["bars"][0] - chart["labels"][0]) <= 1, chart
