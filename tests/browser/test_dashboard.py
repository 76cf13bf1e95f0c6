"""The operator dashboard (`/ui` on the admin listener) in a real browser, against a running `moat serve` in
front of `moat mock-upstream`: no page without a session; log in; a campaign appears on the live overview
while a scenario is replayed through the gateway (`moat replay`); it is approved from the review queue and
its accounts then get 403 through the official OpenAI and Anthropic SDKs; a key is revoked (then 401);
a state change without the CSRF token, or from another origin, is refused. Every page is checked for
console errors (a Content-Security-Policy violation is one) and for labelled form fields.

The tests run in file order and share one gateway (module fixture `gw`).
"""

import json
import os
import pathlib
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import anthropic
import openai
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from conftest import run_moat

PAGES = ["/ui", "/ui/campaigns", "/ui/review", "/ui/accounts", "/ui/overrides", "/ui/keys", "/ui/audit"]
SCENARIO, SEED = "smoke", "7"


def _free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _wait_health(url, process, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def _stop(process):
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def gw():
    """`moat simulate` (smoke), `moat mock-upstream`, and `moat serve` with every campaign verdict held for
    review (review_below_confidence 1.01) and campaigns blocked once approved."""
    moat = os.environ["MOAT_BIN"]
    work = pathlib.Path(tempfile.mkdtemp(prefix="moat-dashboard-"))
    sim = run_moat("simulate", "--scenario", SCENARIO, "--seed", SEED, "--out", str(work))
    assert sim.returncode == 0, sim.stdout + sim.stderr
    store = work / "moat.sqlite"
    imported = run_moat("accounts", "import", str(work / "accounts.jsonl"), "--store", str(store))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    token = "dash-" + os.urandom(12).hex()
    upstream = serve = None
    for _ in range(3):
        mock_port, proxy_port, admin_port = _free_ports(3)
        (work / "moat.yaml").write_text(f"""
listen: {{host: 127.0.0.1, port: {proxy_port}}}
admin: {{host: 127.0.0.1, port: {admin_port}, token: "{token}"}}
store: "{store}"
upstreams:
  openai: {{url: "http://127.0.0.1:{mock_port}"}}
  anthropic: {{url: "http://127.0.0.1:{mock_port}"}}
trusted_proxies: [127.0.0.1/32]
replay: {{event_time_header: x-moat-event-time, max_age_days: 3650}}
tls_fingerprint_header: x-ja4
asn_header: x-client-asn
asn_org_header: x-client-asn-org
country_header: x-client-country
detection_reorder_seconds: 120
limits:
  default_tier: open
  tiers:
    open: {{account: {{requests_per_minute: 100000000, input_tokens_per_minute: 1000000000000, output_tokens_per_minute: 1000000000000}}}}
    throttled: {{account: {{requests_per_minute: 5}}}}
policy: {{campaign: block, suspicious: allow, takedown: true, review_below_confidence: 1.01}}
""")
        upstream = subprocess.Popen([moat, "mock-upstream", "--host", "127.0.0.1", "--port", str(mock_port)],
                                    stdout=open(work / "mock.log", "w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        serve = subprocess.Popen([moat, "serve", "--config", str(work / "moat.yaml"), "--log-level", "warning"],
                                 stdout=open(work / "serve.log", "w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if (_wait_health(f"http://127.0.0.1:{mock_port}/health", upstream)
                and _wait_health(f"http://127.0.0.1:{proxy_port}/health", serve)
                and _wait_health(f"http://127.0.0.1:{admin_port}/health", serve)):
            break
        _stop(serve)
        _stop(upstream)
        upstream = serve = None
    assert serve is not None, "moat serve did not start: " + (work / "serve.log").read_text()
    labels = [json.loads(line) for line in open(work / "labels.jsonl")]
    attackers = {l["account_id"] for l in labels if l.get("campaign")}
    accounts = [json.loads(line)["account_id"] for line in open(work / "accounts.jsonl")]
    state = {"work": work, "moat": moat, "token": token, "ui": f"http://127.0.0.1:{admin_port}/ui",
             "admin": f"http://127.0.0.1:{admin_port}", "proxy": f"http://127.0.0.1:{proxy_port}",
             "benign": sorted(a for a in accounts if a not in attackers), "attackers": attackers}
    yield state
    if state.get("replay"):
        _stop(state["replay"])
    _stop(serve)
    _stop(upstream)
    assert serve.returncode in (0, -15), "moat serve exited with %s: %s" % (serve.returncode, (work / "serve.log").read_text()[-2000:])


# ---------------------------------------------------------------- helpers

def severe(driver):
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def visit(driver, url):
    driver.get_log("browser")
    driver.get(url)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")


def login(driver, gw):
    visit(driver, gw["ui"] + "/login")
    driver.find_element(By.ID, "token").send_keys(gw["token"])
    driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "form.logout"))


def heading(driver):
    return driver.find_element(By.TAG_NAME, "h1").text


def post(gw, path, fields, cookie=None, headers=None):
    """A raw form POST (no browser): returns (status, body)."""
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(gw["admin"] + path, data=data, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
    if cookie:
        request.add_header("Cookie", f"moat_session={cookie}")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def get(gw, path, cookie=None):
    request = urllib.request.Request(gw["admin"] + path)
    if cookie:
        request.add_header("Cookie", f"moat_session={cookie}")
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def openai_client(gw, key):
    return openai.OpenAI(base_url=gw["proxy"] + "/v1", api_key=key, max_retries=0, timeout=30)


def anthropic_client(gw, key):
    return anthropic.Anthropic(base_url=gw["proxy"], api_key=key, max_retries=0, timeout=30)


def chat(gw, key):
    return openai_client(gw, key).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "What is a moat for?"}], max_tokens=32)


def message(gw, key):
    return anthropic_client(gw, key).messages.create(
        model="claude-3-5-haiku-latest", max_tokens=32, messages=[{"role": "user", "content": "What is a moat for?"}])


def create_key_in_dashboard(driver, gw, account):
    """Creates a key for `account` from its account page; returns (key id, secret) read off the page."""
    visit(driver, gw["ui"] + "/accounts/" + urllib.parse.quote(account, safe=""))
    driver.find_element(By.ID, "key-name").send_keys("dashboard-test")
    driver.find_element(By.XPATH, "//button[starts-with(normalize-space(), 'Create a key for')]").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "new-secret"))
    secret = driver.find_element(By.ID, "new-secret").text.strip()
    key_id = driver.find_element(By.CSS_SELECTOR, "[data-key-id]").text.strip()
    assert secret and key_id and secret != key_id
    return key_id, secret


# ---------------------------------------------------------------- tests

def test_no_page_works_without_a_session(browser, gw):
    browser.delete_all_cookies()
    for path in PAGES + ["/ui/accounts/acct-x", "/ui/campaigns/c-1"]:
        visit(browser, gw["admin"] + path)
        assert "/ui/login" in browser.current_url, f"{path} opened without a session"
        assert browser.find_elements(By.CSS_SELECTOR, "form.logout") == []
        assert heading(browser) == "Log in"
    status, _, body = get(gw, "/ui/overview.json")
    assert status == 401 and "campaigns" not in body
    for path in PAGES:
        status, headers, _ = get(gw, path, cookie="not-a-session")
        assert status == 303 and headers.get("Location", "").startswith("/ui/login"), path
    status, body = post(gw, "/ui/keys", {"account": "acct-x"})
    assert status == 401, body
    status, body = post(gw, "/ui/overrides", {"scope": "account", "subject": "acct-x", "action": "allow"}, cookie="forged")
    assert status == 401, body


def test_login_with_the_admin_token_gives_a_strict_httponly_session_cookie(browser, gw):
    browser.delete_all_cookies()
    visit(browser, gw["ui"] + "/login")
    assert browser.find_element(By.CSS_SELECTOR, "label[for=token]").text == "Admin token"
    browser.find_element(By.ID, "token").send_keys("not-the-token" + Keys.ENTER)
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "p.error"))
    assert "not the admin token" in browser.find_element(By.CSS_SELECTOR, "p.error").text
    assert browser.get_cookie("moat_session") is None
    login(browser, gw)
    assert heading(browser) == "Overview"
    cookie = browser.get_cookie("moat_session")
    assert cookie and cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/ui"
    assert "moat_session" not in browser.execute_script("return document.cookie")
    assert severe(browser) == []


def test_a_campaign_appears_on_the_live_overview_while_a_scenario_is_replayed(browser, gw):
    visit(browser, gw["ui"])
    assert browser.find_element(By.CSS_SELECTOR, "[data-live=campaigns]").text == "0"
    browser.execute_script("window.__sameDocument = true")
    gw["replay"] = subprocess.Popen(
        [gw["moat"], "replay", str(gw["work"] / "exchanges.jsonl"), "--gateway", gw["proxy"], "--admin", gw["admin"],
         "--admin-token", gw["token"], "--concurrency", "8", "--labels", str(gw["work"] / "labels.jsonl"),
         "--out", str(gw["work"] / "gateway-report.json")],
        stdout=open(gw["work"] / "replay.log", "w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    started = time.time()
    seen_rate = False
    while time.time() - started < 600:
        rate = browser.find_element(By.CSS_SELECTOR, "[data-live=rate]").text
        seen_rate = seen_rate or (rate not in ("measuring", "0") and float(rate) > 0)
        if int(browser.find_element(By.CSS_SELECTOR, "[data-live=campaigns]").text.replace(",", "")) > 0:
            break
        assert gw["replay"].poll() in (None, 0), (gw["work"] / "replay.log").read_text()
        time.sleep(1)
    else:
        pytest.fail("no campaign appeared on the overview within 10 minutes")
    detected_after = time.time() - started
    assert browser.execute_script("return window.__sameDocument === true"), "the overview reloaded instead of updating"
    rows = browser.find_elements(By.CSS_SELECTOR, "[data-live-rows=campaigns] tr")
    assert rows and rows[0].find_element(By.TAG_NAME, "a").get_attribute("href").startswith(gw["ui"] + "/campaigns/")
    assert int(browser.find_element(By.CSS_SELECTOR, "[data-live=requests]").text.replace(",", "")) > 0
    # The first campaign can appear before the rate's first measurement: keep watching the rate while the
    # replay runs (and shortly after).
    deadline = time.time() + 60
    while not seen_rate and time.time() < deadline:
        rate = browser.find_element(By.CSS_SELECTOR, "[data-live=rate]").text
        seen_rate = rate not in ("measuring", "0") and float(rate) > 0
        time.sleep(1)
    assert seen_rate, "the request rate never showed traffic"
    print(f"first campaign on the overview {detected_after:.1f} s after the replay started")
    assert gw["replay"].wait(timeout=900) == 0, (gw["work"] / "replay.log").read_text()
    assert severe(browser) == []


def test_campaign_page_shows_the_reports_timeline_and_evidence(browser, gw):
    visit(browser, gw["ui"] + "/campaigns")
    link = browser.find_element(By.CSS_SELECTOR, "#campaigns tbody a")
    campaign = link.text
    link.click()
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".report-embed section.campaign"))
    charts = browser.find_elements(By.CSS_SELECTOR, ".report-embed figure.chart svg")
    assert len(charts) >= 3
    for svg in charts:
        assert svg.size["width"] > 300 and svg.size["height"] > 80
    assert browser.find_elements(By.CSS_SELECTOR, ".report-embed figure[data-chart=timeline] .mark")
    assert browser.find_elements(By.CSS_SELECTOR, ".report-embed ul.evidence li")
    assert campaign in heading(browser)
    assert severe(browser) == []


def test_approve_a_campaign_from_the_review_queue(browser, gw, artifacts):
    browser.set_window_size(1280, 1400)
    visit(browser, gw["ui"] + "/review")
    sections = browser.find_elements(By.CSS_SELECTOR, "section.review-campaign[data-campaign]")
    sections = [s for s in sections if s.get_attribute("data-campaign")]
    assert sections, "nothing waits for review after the replay"
    section = sections[0]
    campaign = section.get_attribute("data-campaign")
    confidence = float(section.find_element(By.CSS_SELECTOR, "[data-confidence]").text)
    assert 0 < confidence <= 1.0
    evidence = section.find_elements(By.CSS_SELECTOR, "ul.evidence li")
    assert evidence and evidence[0].text
    # Evidence and the accounts to decide on are side by side.
    left, right = section.find_elements(By.CSS_SELECTOR, ".side > div")
    assert left.location["x"] < right.location["x"] and abs(left.location["y"] - right.location["y"]) < 40
    accounts = [a.text for a in section.find_elements(By.CSS_SELECTOR, "table a")]
    assert accounts
    assert set(accounts) <= gw["attackers"], "a benign account waits for review"
    gw["campaign"], gw["campaign_accounts"] = campaign, accounts
    path = artifacts / "dashboard.png"
    assert browser.save_screenshot(str(path)) and path.stat().st_size > 10_000
    if os.environ.get("MOAT_UPDATE_DOCS") == "1":
        docs = pathlib.Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"
        docs.write_bytes(path.read_bytes())
    browser.set_window_size(1280, 1000)
    # Before approval the held verdicts are not enforced.
    _, secret = create_key_in_dashboard(browser, gw, accounts[0])
    assert chat(gw, secret).choices[0].message.content
    visit(browser, gw["ui"] + "/review")
    button = browser.find_element(By.CSS_SELECTOR, f"section.review-campaign[data-campaign='{campaign}'] button")
    assert button.text.startswith("Approve")
    button.click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "p.notice"))
    assert "Approved" in browser.find_element(By.CSS_SELECTOR, "p.notice").text
    assert not browser.find_elements(By.CSS_SELECTOR, f"section.review-campaign[data-campaign='{campaign}']")
    visit(browser, gw["ui"] + "/audit?action=review-approve&actor=dashboard")
    rows = browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")
    assert len(rows) == len(accounts)
    assert severe(browser) == []


def test_approved_accounts_get_403_through_the_official_sdks(browser, gw):
    assert gw.get("campaign_accounts"), "the approve test did not run"
    for account in gw["campaign_accounts"][:3]:
        _, secret = create_key_in_dashboard(browser, gw, account)
        with pytest.raises(openai.PermissionDeniedError) as caught:
            chat(gw, secret)
        assert caught.value.status_code == 403
        with pytest.raises(anthropic.PermissionDeniedError) as caught:
            message(gw, secret)
        assert caught.value.status_code == 403
        visit(browser, gw["ui"] + "/accounts/" + urllib.parse.quote(account, safe=""))
        assert browser.find_element(By.CSS_SELECTOR, "[data-action]").text == "block"
    # A customer outside the campaign is still served.
    _, secret = create_key_in_dashboard(browser, gw, gw["benign"][0])
    assert chat(gw, secret).choices[0].message.content
    assert message(gw, secret).content


def test_revoke_a_key(browser, gw):
    account = gw["benign"][1]
    key_id, secret = create_key_in_dashboard(browser, gw, account)
    assert chat(gw, secret).choices[0].message.content
    visit(browser, gw["ui"] + "/keys?account=" + urllib.parse.quote(account))
    browser.find_element(By.XPATH, f"//button[normalize-space()='Revoke {key_id}']").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "p.notice"))
    assert "revoked" in browser.find_element(By.CSS_SELECTOR, f"tr[data-key='{key_id}']").text
    with pytest.raises(openai.AuthenticationError):
        chat(gw, secret)
    with pytest.raises(anthropic.AuthenticationError):
        message(gw, secret)
    visit(browser, gw["ui"] + "/audit?subject=" + urllib.parse.quote("key:" + key_id))
    actions = [r.find_elements(By.TAG_NAME, "td")[2].text for r in browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")]
    assert actions == ["key-revoked", "key-created"]


def test_a_state_change_without_the_csrf_token_is_refused(browser, gw):
    account = gw["benign"][2]
    key_id, secret = create_key_in_dashboard(browser, gw, account)
    visit(browser, gw["ui"] + "/keys?account=" + urllib.parse.quote(account))
    # In the browser: the revoke form without its hidden token.
    browser.execute_script("""
        var b = Array.from(document.querySelectorAll('button')).find(function (x) { return x.textContent.trim() === arguments[0]; });
        b.form.querySelector('input[name=csrf]').remove();
        b.click();""".replace("arguments[0]", json.dumps("Revoke " + key_id)))
    WebDriverWait(browser, 20).until(lambda d: "CSRF" in heading(d))
    assert "nothing was changed" in browser.find_element(By.CSS_SELECTOR, "p.error").text
    assert chat(gw, secret).choices[0].message.content, "the key was revoked without a CSRF token"
    # Without a browser: the session cookie alone, a wrong token, or the right token from another origin.
    session = browser.get_cookie("moat_session")["value"]
    visit(browser, gw["ui"] + "/keys?account=" + urllib.parse.quote(account))
    token = browser.find_element(By.CSS_SELECTOR, "form.logout input[name=csrf]").get_attribute("value")
    path = f"/ui/keys/{key_id}/revoke"
    assert post(gw, path, {}, cookie=session)[0] == 403
    assert post(gw, path, {"csrf": "0" * len(token)}, cookie=session)[0] == 403
    assert post(gw, path, {"csrf": token}, cookie=session, headers={"Origin": "http://evil.example"})[0] == 403
    assert post(gw, path, {"csrf": token}, cookie=session, headers={"Sec-Fetch-Site": "cross-site"})[0] == 403
    assert chat(gw, secret).choices[0].message.content
    # The same request with the token is accepted (so the refusals above were about the token).
    status, _ = post(gw, path, {"csrf": token, "back": "/ui/keys"}, cookie=session)
    assert status == 303
    with pytest.raises(openai.AuthenticationError):
        chat(gw, secret)
    # Logging in needs the login form's own token too.
    status, body = post(gw, "/ui/login", {"token": gw["token"]})
    assert status == 403 and "Set-Cookie" not in body


def test_overrides_and_allowlist(browser, gw):
    account = gw["benign"][3]
    visit(browser, gw["ui"] + "/overrides")
    browser.find_element(By.ID, "al-subject").send_keys(account)
    browser.find_element(By.ID, "al-reason").send_keys("known customer: eval harness")
    browser.find_element(By.XPATH, "//button[normalize-space()='Add to the allowlist']").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "p.notice"))
    assert account in browser.find_element(By.ID, "allowlist").text
    browser.find_element(By.ID, "ov-subject").send_keys(account + "-x")
    browser.find_element(By.ID, "ov-reason2").send_keys("test block")
    browser.find_element(By.XPATH, "//button[normalize-space()='Force the action']").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "forced"))
    assert account + "-x" in browser.find_element(By.ID, "forced").text
    row = browser.find_element(By.XPATH, f"//table[@id='forced']//tr[td[2][normalize-space()='{account}-x']]")
    row.find_element(By.TAG_NAME, "button").click()
    WebDriverWait(browser, 20).until(lambda d: "Override removed" in d.find_element(By.CSS_SELECTOR, "p.notice").text)
    assert not browser.find_elements(By.ID, "forced")
    visit(browser, gw["ui"] + "/audit?action=override&subject=" + urllib.parse.quote(account))
    actions = [r.find_elements(By.TAG_NAME, "td")[2].text for r in browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")]
    assert actions == ["override-removed", "override-block", "override-allow"]
    assert severe(browser) == []


def test_every_page_is_accessible_and_has_no_console_error(browser, gw):
    account = gw["campaign_accounts"][0] if gw.get("campaign_accounts") else gw["benign"][0]
    for path in PAGES + ["/ui/accounts/" + urllib.parse.quote(account, safe=""), "/ui/campaigns/" + urllib.parse.quote(gw.get("campaign", ""), safe="")]:
        visit(browser, gw["ui"].removesuffix("/ui") + path)
        assert browser.find_elements(By.CSS_SELECTOR, "form.logout"), path
        unlabelled = browser.execute_script("""
            return Array.from(document.querySelectorAll('input:not([type=hidden]), select')).filter(function (el) {
              return !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby');
            }).map(function (el) { return el.name || el.id; });""")
        assert unlabelled == [], f"{path}: fields without a label: {unlabelled}"
        assert browser.find_elements(By.TAG_NAME, "h1") and browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
        # Keyboard: the first Tab reaches the skip link, which leads to the content.
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        assert browser.switch_to.active_element.get_attribute("class") == "skip", path
        assert severe(browser) == [], f"{path}: console errors"
    # Text contrast of the navigation, buttons and body text (WCAG AA, 4.5:1).
    ratios = browser.execute_script("""
        function lum(c) { var m = c.match(/[0-9.]+/g).slice(0, 3).map(Number).map(function (v) { v /= 255;
          return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
          return 0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2]; }
        function bg(el) { while (el) { var c = getComputedStyle(el).backgroundColor;
          if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') { return c; } el = el.parentElement; } return 'rgb(255, 255, 255)'; }
        return Array.from(document.querySelectorAll('header.bar a, button, main p, main td, main th, label')).map(function (el) {
          var a = lum(getComputedStyle(el).color), b = lum(bg(el));
          return [el.tagName + ' ' + el.textContent.trim().slice(0, 30), (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]; });""")
    low = [(what, round(r, 2)) for what, r in ratios if r < 4.5]
    assert ratios and low == [], f"low contrast: {low}"


def test_logout_ends_the_session(browser, gw):
    visit(browser, gw["ui"])
    session = browser.get_cookie("moat_session")["value"]
    browser.find_element(By.CSS_SELECTOR, "form.logout button").click()
    WebDriverWait(browser, 20).until(lambda d: "/ui/login" in d.current_url)
    status, headers, _ = get(gw, "/ui/keys", cookie=session)
    assert status == 303 and headers["Location"].startswith("/ui/login")
