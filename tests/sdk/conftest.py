"""Fixtures shared by the SDK conformance tests: real clients from the official SDKs.

Environment:
  MOAT_BASE_URL            server root, e.g. http://127.0.0.1:9100 (the mock or `moat serve`)
  MOAT_API_KEY             key the clients send (any string for the mock)
  MOAT_OPENAI_MODEL        model name for OpenAI calls (default gpt-mock)
  MOAT_ANTHROPIC_MODEL     model name for Anthropic calls (default claude-mock)
  MOAT_UPSTREAM_IS_MOCK    "1" (default) enables cases that rely on the mock's x-mock-* headers
"""

import os

import anthropic
import openai
import pytest


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


@pytest.fixture()
def openai_client(base_url: str, api_key: str) -> openai.OpenAI:
    # No retries: a test sees exactly the status the server sent.
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=api_key, max_retries=0, timeout=30)


@pytest.fixture()
def anthropic_client(base_url: str, api_key: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base_url, api_key=api_key, max_retries=0, timeout=30)


def pytest_report_header(config):
    return f"openai {openai.__version__}, anthropic {anthropic.__version__}"
