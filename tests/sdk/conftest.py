"""Fixtures shared by the SDK conformance tests: real clients from the official SDKs.

Environment:
  MOAT_BASE_URL            server root, e.g. http://127.0.0.1:9100 (the mock or `moat serve`)
  MOAT_API_KEY             key the clients send (any string for the mock)
  MOAT_OPENAI_MODEL        model name for OpenAI calls (default gpt-mock)
  MOAT_ANTHROPIC_MODEL     model name for Anthropic calls (default claude-mock)
  MOAT_UPSTREAM_IS_MOCK    "1" (default) enables cases that rely on the mock's x-mock-* headers

The clients count the 200 answers they get (`served_calls`), so a test of `moat serve` can check that
every one of them reached the exchange log.
"""

import collections
import os

import anthropic
import openai
import pytest

# Successful (200) model-API answers the `openai_client` and `anthropic_client` fixtures received,
# per path ("/v1/chat/completions", "/v1/messages"), over the whole session.
served_calls: collections.Counter = collections.Counter()


def _count_served(response) -> None:
    # An httpx response (the SDKs' own HTTP library, whichever version they ship).
    if response.status_code == 200 and response.request.url.path.startswith("/v1/"):
        served_calls[response.request.url.path] += 1


def _base_url() -> str:
    url = os.environ.get("MOAT_BASE_URL")
    if not url:
        pytest.exit("MOAT_BASE_URL is not set (e.g. http://127.0.0.1:9100)", returncode=2)
    return url.rstrip("/")


@pytest.fixture(scope="session")
def base_url() -> str:
    return _base_url()


@pytest.fixture(scope="session")
def api_key() -> str:
    return os.environ.get("MOAT_API_KEY", "moat-test-key")


@pytest.fixture(scope="session")
def openai_model() -> str:
    return os.environ.get("MOAT_OPENAI_MODEL", "gpt-mock")


@pytest.fixture(scope="session")
def anthropic_model() -> str:
    return os.environ.get("MOAT_ANTHROPIC_MODEL", "claude-mock")


@pytest.fixture(scope="session")
def upstream_is_mock() -> bool:
    return os.environ.get("MOAT_UPSTREAM_IS_MOCK", "1") == "1"


@pytest.fixture(scope="session")
def served() -> collections.Counter:
    """The session's count of 200 answers received by the client fixtures, per path."""
    return served_calls


@pytest.fixture()
def openai_client(base_url: str, api_key: str) -> openai.OpenAI:
    # No retries: a test sees exactly the status the server sent.
    http_client = openai.DefaultHttpxClient(event_hooks={"response": [_count_served]})
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=api_key, max_retries=0, timeout=30,
                         http_client=http_client)


@pytest.fixture()
def anthropic_client(base_url: str, api_key: str) -> anthropic.Anthropic:
    http_client = anthropic.DefaultHttpxClient(event_hooks={"response": [_count_served]})
    return anthropic.Anthropic(base_url=base_url, api_key=api_key, max_retries=0, timeout=30,
                               http_client=http_client)


def pytest_report_header(config):
    return f"openai {openai.__version__}, anthropic {anthropic.__version__}"
