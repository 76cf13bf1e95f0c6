"""Fixtures for the intel tests (tests/intel/run.sh sets the environment).

  MOAT_INTEL_WORK   directory with intel.yaml, the simulated scenarios (sim-N/) and the bundles
  MOAT_TAXII_URL    root of the running `moat intel serve`, e.g. http://127.0.0.1:9300
  MOAT_BIN          the moat executable
  MOAT_TEST_*       the peers' secrets and the trust group's key (also in intel.yaml, by env name)
"""

import json
import os
import pathlib

import pytest
import requests.auth


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set (run tests/intel/run.sh)", returncode=2)
    return value


@pytest.fixture(scope="session")
def work() -> pathlib.Path:
    return pathlib.Path(_env("MOAT_INTEL_WORK"))


@pytest.fixture(scope="session")
def taxii_url() -> str:
    return _env("MOAT_TAXII_URL").rstrip("/")


@pytest.fixture(scope="session")
def moat_bin() -> str:
    return _env("MOAT_BIN")


class Bearer(requests.auth.AuthBase):
    """`Authorization: Bearer TOKEN` (taxii2-client's own TokenAuth sends `Token TOKEN`)."""

    def __init__(self, token: str):
        self.token = token

    def __call__(self, r):
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


@pytest.fixture(scope="session")
def publisher() -> Bearer:
    return Bearer(_env("MOAT_TEST_PUBLISHER_TOKEN"))


@pytest.fixture(scope="session")
def lab_b() -> Bearer:
    return Bearer(_env("MOAT_TEST_LAB_B_TOKEN"))


@pytest.fixture(scope="session")
def lab_c() -> tuple:
    return ("lab-c", _env("MOAT_TEST_LAB_C_PASSWORD"))


AMBER = "5d0c6a4e-9f0b-4f7e-8c1d-2b6f0a9e7c31"
RED = "0b8f2c56-3d1e-4a9b-9e7f-6c5d4b3a2f10"
PUBLIC = "9e1d7c4b-2a3f-4b6c-8d9e-0f1a2b3c4d5e"


def load(path: pathlib.Path) -> dict:
    return json.loads(path.read_text())
