"""The HTML campaign report in a real browser (headless Chromium): no console error, every chart drawn,
tables sort, nothing loaded from the network, hostile input stays text, and it prints to PDF."""

import base64
import json
import os
import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.print_page_options import PrintOptions

from conftest import HOSTILE, open_page

CHARTS_JS = """
return Array.from(document.querySelectorAll("figure.chart")).map(function (f) {
  var svg = f.querySelector("svg");
  var box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  var marks = svg ? Array.from(svg.querySelectorAll(".mark")) : [];
  var drawn = marks.filter(function (m) { var b = m.getBBox(); return b.width > 0 || b.height > 0; });
  var painted = marks.filter(function (m) {
    var s = getComputedStyle(m);
    var stroked = m.tagName === "line" || m.classList.contains("line");
    return stroked ? s.stroke !== "none" && s.stroke !== "" : s.fill !== "rgb(0, 0, 0)" && s.fill !== "none";
  });
  var title = svg && svg.querySelector("title");
  return {id: f.id, kind: f.getAttribute("data-chart"), declared: parseInt(f.getAttribute("data-marks"), 10),
          marks: marks.length, drawn: drawn.length, painted: painted.length, width: box.width, height: box.height,
          title: title ? title.textContent : "", labelled: svg ? svg.getAttribute("aria-labelledby") : null};
});
"""


def severe(entries):
    return [e for e in entries if e.get("level") == "SEVERE"]


def campaign_count(driver) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, "section.campaign[id^=campaign-]"))


def check_charts(driver, expected_kinds):
    charts = driver.execute_script(CHARTS_JS)
    assert charts, "no chart in the page"
    kinds = {}
    for c in charts:
        kinds[c["kind"]] = kinds.get(c["kind"], 0) + 1
        assert c["width"] > 300 and c["height"] > 80, f"{c['id']}: SVG not laid out ({c['width']}x{c['height']})"
        assert c["declared"] > 0, f"{c['id']}: no mark drawn"
        assert c["marks"] == c["declared"], f"{c['id']}: {c['marks']} marks in the DOM, {c['declared']} declared"
        assert c["drawn"] == c["marks"], f"{c['id']}: {c['marks'] - c['drawn']} marks have an empty box"
        assert c["painted"] == c["marks"], f"{c['id']}: {c['marks'] - c['painted']} marks unstyled (style sheet blocked?)"
        assert c["title"] and c["labelled"], f"{c['id']}: no accessible title"
    for kind, count in expected_kinds.items():
        assert kinds.get(kind, 0) == count, f"expected {count} '{kind}' chart(s), found {kinds.get(kind, 0)}: {kinds}"
    return charts


def test_demo_writes_the_report_and_says_where(smoke):
    assert smoke["html"].exists()
    assert str(smoke["html"]) in smoke["stdout"] or "campaign.html" in smoke["stdout"]
    assert "open it in a browser" in smoke["stdout"]


def test_report_of_the_smoke_run_opens_without_console_errors(browser, smoke):
    open_page(browser, smoke["html"])
    assert "distillation campaign" in browser.title
    errors = severe(browser.get_log("browser"))
    assert errors == [], f"console errors: {errors}"


def test_every_chart_of_the_smoke_report_rendered(browser, smoke):
    open_page(browser, smoke["html"])
    n = campaign_count(browser)
    assert n >= 1, "the smoke run has campaigns"
    check_charts(browser, {"overview": 1, "timeline": n, "signups": n, "models": n, "capabilities": n, "enforcement": 0})
    assert severe(browser.get_log("browser")) == []


def test_report_loads_nothing_from_the_network(browser, smoke):
    open_page(browser, smoke["html"])
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    assert urls, "the performance log recorded no request at all"
    remote = [u for u in urls if not (u.startswith("file://") or u.startswith("data:"))]
    assert remote == []


def test_accounts_table_sorts_by_a_column(browser, smoke):
    open_page(browser, smoke["html"])
    table = browser.find_element(By.CSS_SELECTOR, "table.accounts")
    headings = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    column = headings.index("Exchanges")

    def values():
        cells = table.find_elements(By.CSS_SELECTOR, f"tbody tr > *:nth-child({column + 1})")
        return [float(c.get_attribute("data-v")) for c in cells]

    button = table.find_elements(By.CSS_SELECTOR, "thead th button")[column]
    button.click()
    assert values() == sorted(values())
    assert table.find_elements(By.CSS_SELECTOR, "thead th")[column].get_attribute("aria-sort") == "ascending"
    button.click()
    assert values() == sorted(values(), reverse=True)
    assert len(values()) > 1
    assert severe(browser.get_log("browser")) == []


def test_gateway_report_shows_countermeasures_and_prints_to_pdf(browser, gateway_report, artifacts):
    assert gateway_report["acted_on"] > 0
    open_page(browser, gateway_report["html"])
    n = campaign_count(browser)
    check_charts(browser, {"overview": 1, "timeline": n, "enforcement": n})
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "What the gateway did" in body
    assert "withhold_reasoning" in body
    assert severe(browser.get_log("browser")) == []
    # `moat report --pdf` printed it with headless Chromium.
    pdf = gateway_report["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 4
    assert "PDF written to" in gateway_report["stdout"]


def test_browser_prints_the_report_to_pdf(browser, smoke, artifacts):
    open_page(browser, smoke["html"])
    options = PrintOptions()
    options.background = True
    pdf = base64.b64decode(browser.print_page(options))
    (artifacts / "smoke-report-printed.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= 2 + campaign_count(browser), f"{pages} pages: each campaign starts a page"


def test_hostile_strings_stay_text_in_the_browser(browser, hostile_report):
    open_page(browser, hostile_report["html"])
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.find_elements(By.CSS_SELECTOR, "img") == []
    assert len(browser.find_elements(By.TAG_NAME, "script")) == 1
    assert HOSTILE in browser.find_element(By.TAG_NAME, "body").text
    assert severe(browser.get_log("browser")) == []


def test_screenshot_for_the_readme(browser, smoke, artifacts):
    browser.set_window_size(1200, 1640)
    open_page(browser, smoke["html"])
    path = artifacts / "report.png"
    assert browser.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
    # MOAT_UPDATE_DOCS=1 refreshes the README's copy (docs/report.png).
    if os.environ.get("MOAT_UPDATE_DOCS") == "1":
        docs = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "report.png")
        with open(path, "rb") as src, open(docs, "wb") as dst:
            dst.write(src.read())
    browser.set_window_size(1280, 1000)
