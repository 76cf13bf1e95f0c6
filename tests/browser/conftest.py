"""Fixtures of the browser tests: a smoke run of `moat demo` with its HTML campaign report, variants of
that report (a gateway's log with countermeasures; hostile strings in the inputs), and a real headless
Chromium driven by chromedriver through selenium.

Environment (set by run.sh): MOAT_BIN, MOAT_CHROMIUM, MOAT_CHROMEDRIVER, MOAT_BROWSER_ARTIFACTS.
"""

import json
import os
import pathlib
import subprocess

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set (run tests/browser/run.sh)", returncode=2)
    return value


def run_moat(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([_env("MOAT_BIN"), *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def artifacts() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("MOAT_BROWSER_ARTIFACTS", ".build/browser-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def smoke(tmp_path_factory) -> dict:
    """`moat demo --out DIR`: simulate the smoke scenario, detect, score, and write DIR/campaign.html."""
    out = tmp_path_factory.mktemp("smoke")
    result = run_moat("demo", "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return {"dir": out, "html": out / "campaign.html", "stdout": result.stdout,
            "report": out / "report.json", "exchanges": out / "exchanges.jsonl", "accounts": out / "accounts.jsonl"}


def _flag_times(report_path: pathlib.Path) -> dict:
    report = json.loads(report_path.read_text())
    return {a["account_id"]: a["flagged_at"] for a in report["accounts"]}


@pytest.fixture(scope="session")
def gateway_report(smoke, artifacts) -> dict:
    """The smoke log as an enforcing gateway would have written it: after each flagged account's
    flagged_at, its requests are in turn refused (403), throttled (429) or answered with reasoning
    withheld; then `moat report --pdf` on it."""
    flagged = _flag_times(smoke["report"])
    log = smoke["dir"] / "gateway-exchanges.jsonl"
    actions = [("403", None), ("429", None), ("200", "withhold_reasoning")]
    turn = 0
    with open(smoke["exchanges"]) as src, open(log, "w") as dst:
        for line in src:
            e = json.loads(line)
            at = flagged.get(e["account_id"])
            e["status"], e["countermeasure"] = 200, None
            if at is not None and e["ts"] >= at:  # both UTC RFC 3339 with milliseconds: text order is time order
                status, countermeasure = actions[turn % 3]
                turn += 1
                e["status"] = int(status)
                e["countermeasure"] = countermeasure
            if e["countermeasure"] is None:
                del e["countermeasure"]
            dst.write(json.dumps(e) + "\n")
    html = smoke["dir"] / "gateway.html"
    pdf = artifacts / "campaign-report.pdf"
    result = run_moat("report", "--report", str(smoke["report"]), "--exchanges", str(log),
                      "--accounts", str(smoke["accounts"]), "--out", str(html), "--pdf", str(pdf))
    assert result.returncode == 0, result.stdout + result.stderr
    return {"html": html, "pdf": pdf, "stdout": result.stdout, "acted_on": turn}


@pytest.fixture(scope="session")
def hostile_report(smoke) -> dict:
    """The smoke run with one campaign account renamed to markup, in the report, the log and the
    accounts file, and markup in a user agent and an evidence sentence."""
    report = json.loads(smoke["report"].read_text())
    victim = report["campaigns"][0]["accounts"][0]
    def rename(value):
        return HOSTILE if value == victim else value
    report["campaigns"][0]["accounts"] = [rename(a) for a in report["campaigns"][0]["accounts"]]
    report["campaigns"][0]["evidence"].append(HOSTILE)
    for a in report["accounts"]:
        a["account_id"] = rename(a["account_id"])
    out = smoke["dir"]
    (out / "hostile-report.json").write_text(json.dumps(report))
    with open(smoke["exchanges"]) as src, open(out / "hostile-exchanges.jsonl", "w") as dst:
        for line in src:
            e = json.loads(line)
            if e["account_id"] == victim:
                e["account_id"] = HOSTILE
                e.setdefault("client", {})["user_agent"] = HOSTILE
            dst.write(json.dumps(e) + "\n")
    with open(smoke["accounts"]) as src, open(out / "hostile-accounts.jsonl", "w") as dst:
        for line in src:
            a = json.loads(line)
            a["account_id"] = rename(a["account_id"])
            dst.write(json.dumps(a) + "\n")
    html = out / "hostile.html"
    result = run_moat("report", "--report", str(out / "hostile-report.json"), "--exchanges", str(out / "hostile-exchanges.jsonl"),
                      "--accounts", str(out / "hostile-accounts.jsonl"), "--out", str(html))
    assert result.returncode == 0, result.stdout + result.stderr
    return {"html": html}


@pytest.fixture(scope="session")
def browser():
    options = Options()
    options.binary_location = _env("MOAT_CHROMIUM")
    for argument in ["--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000",
                     "--no-first-run", "--disable-extensions", "--disable-background-networking", "--hide-scrollbars"]:
        options.add_argument(argument)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(_env("MOAT_CHROMEDRIVER")), options=options)
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


def open_page(driver, path: pathlib.Path) -> None:
    """Loads a local file and drains the logs of earlier pages."""
    driver.get_log("browser")
    driver.get_log("performance")
    driver.get(path.resolve().as_uri())
    driver.execute_script("return document.readyState")
