"""The Content-Security-Policy in a real browser: markup that slips into a page cannot run
script (inline, in a handler, a javascript: link, an htmx attribute that htmx would
evaluate, or swapped in by htmx) nor style, and the watch over every test (conftest's
``csp_violations``) does hear a violation."""

from __future__ import annotations

from tests.e2e.steps import signed_in_page

INJECTED = """
<img id="probe-img" src="/static/favicon.svg" onerror="window.pwned = 'handler'"
     onload="window.pwned = 'handler'">
<script>window.pwned = "inline script";</script>
<a id="probe-link" href="javascript:window.pwned = 'link'">link</a>
<span id="probe-style" style="display: none">styled</span>
<button id="probe-eval" type="button" hx-get="/healthz" hx-swap="none"
        hx-vals='js:{x: window.pwned = "hx-vals"}' hx-on:click="window.pwned = 'hx-on'">go</button>
"""


def test_injected_markup_cannot_run_script_or_style(browser, live_server, csp_violations):
    page = signed_in_page(browser, live_server, "alice")
    page.evaluate("html => document.querySelector('main').insertAdjacentHTML('beforeend', html)",
                  INJECTED)  # fmt: skip
    page.evaluate("() => htmx.process(document.querySelector('#probe-eval'))")
    page.locator("#probe-link").click()
    page.locator("#probe-eval").click()
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.pwned") is None
    assert page.locator("#probe-style").is_visible(), "an inline style applied"
    refused = "\n".join(csp_violations)
    assert "script-src" in refused and "style-src" in refused
    csp_violations.clear()  # provoked on purpose


def test_htmx_swaps_in_no_script(browser, live_server, csp_violations):
    """A fragment with a <script> (as a stored payload might bring) is swapped without it
    running: htmx's allowScriptTags is off, and the policy would refuse it anyway."""
    page = signed_in_page(browser, live_server, "alice")
    page.route(
        "**/notifications/bell*",
        lambda route: route.fulfill(
            status=200, content_type="text/html",
            body='<span id="probe">x</span><script>window.pwned = "swapped"</script>',
        ),
    )  # fmt: skip
    page.evaluate(
        """() => htmx.ajax('GET', '/notifications/bell', {target: 'main', swap: 'beforeend'})"""
    )
    page.locator("#probe").wait_for()
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.pwned") is None
    csp_violations.clear()


def test_a_violation_fails_the_test(browser, live_server, csp_violations):
    page = browser.new_context().new_page()
    page.goto(f"{live_server}/login")
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = '1';"
                  " document.body.append(s); }")  # fmt: skip
    page.wait_for_timeout(300)
    assert any("script-src" in v for v in csp_violations), csp_violations
    csp_violations.clear()
