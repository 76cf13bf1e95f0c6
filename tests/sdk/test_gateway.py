"""What `moat serve` adds, seen through the official OpenAI and Anthropic SDKs.

Run by run-against-gateway.sh, which starts the gateway in front of the mock upstream and sets, besides
conftest.py's variables:
  MOAT_ACCOUNT        account of MOAT_API_KEY (its every served call must be in the log)
  MOAT_TIGHT_KEY      key of an account whose tier allows 2 requests per minute
  MOAT_ADMIN_URL      the admin listener's root
  MOAT_ADMIN_TOKEN    the admin API's bearer token
  MOAT_BIN, MOAT_STORE  the moat executable and the gateway's store, for `moat export`
"""

import json
import os
import subprocess
import uuid
from datetime import datetime

import urllib.error
import urllib.parse
import urllib.request

import anthropic
import openai
import pytest

THINKING = {"type": "enabled", "budget_tokens": 1024}


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.skip(f"{name} is not set: run tests/sdk/run-against-gateway.sh")
    return value


def _prompt(tag: str) -> str:
    return f"[{tag} {uuid.uuid4().hex[:12]}] Explain in two sentences what a castle moat is for."


class AdminResponse:
    def __init__(self, status_code: int, text: str):
        self.status_code = status_code
        self.text = text

    def json(self):
        return json.loads(self.text)


class Admin:
    """The admin API (bearer token), through urllib: no HTTP library beyond the SDKs' is assumed."""

    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/")
        self.token = token

    def request(self, method: str, path: str, body=None, params=None) -> AdminResponse:
        url = self.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method,
                                         headers={"Authorization": f"Bearer {self.token}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return AdminResponse(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return AdminResponse(error.code, error.read().decode())

    def get(self, path, params=None):
        return self.request("GET", path, params=params)

    def post(self, path, json=None):
        return self.request("POST", path, body=json)

    def delete(self, path):
        return self.request("DELETE", path)


@pytest.fixture(scope="session")
def admin() -> Admin:
    return Admin(_env("MOAT_ADMIN_URL"), _env("MOAT_ADMIN_TOKEN"))


def _exported(account=None):
    """The gateway's exchange log as `moat export` writes it, one dict per line."""
    result = subprocess.run([_env("MOAT_BIN"), "export", "--store", _env("MOAT_STORE")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return [e for e in lines if account is None or e["account_id"] == account]


class Caller:
    """An account of its own with a fresh key (created through the admin API) and SDK clients for it."""

    def __init__(self, admin: Admin, base_url: str, tag: str):
        self.account = f"acct-{tag}-{uuid.uuid4().hex[:8]}"
        created = admin.post("/admin/keys", json={"account": self.account})
        assert created.status_code == 200, created.text
        self.key_id = created.json()["id"]
        self.secret = created.json()["secret"]
        self.openai = openai.OpenAI(base_url=f"{base_url}/v1", api_key=self.secret, max_retries=0, timeout=30)
        self.anthropic = anthropic.Anthropic(base_url=base_url, api_key=self.secret, max_retries=0, timeout=30)


@pytest.fixture()
def caller_factory(admin, base_url):
    return lambda tag: Caller(admin, base_url, tag)


def _override(admin, account: str, action: str):
    response = admin.post("/admin/overrides", json={"scope": "account", "subject": account, "action": action,
                                                    "reason": f"sdk test: {action}"})
    assert response.status_code == 200, response.text


def _remove_override(admin, account: str):
    response = admin.delete(f"/admin/overrides/account/{account}")
    assert response.status_code == 204, response.text


# 401


def test_unknown_key_is_401(base_url, openai_model, anthropic_model):
    key = "moat-sk-" + uuid.uuid4().hex
    oa = openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0, timeout=30)
    with pytest.raises(openai.AuthenticationError) as caught:
        oa.chat.completions.create(model=openai_model, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    assert "API key" in caught.value.message

    an = anthropic.Anthropic(base_url=base_url, api_key=key, max_retries=0, timeout=30)
    with pytest.raises(anthropic.AuthenticationError) as caught:
        an.messages.create(model=anthropic_model, max_tokens=64, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 401
    assert caught.value.body["type"] == "error"
    assert caught.value.body["error"]["type"] == "authentication_error"


def test_revoked_key_is_401(admin, caller_factory, openai_model, anthropic_model):
    caller = caller_factory("revoked")
    ok = caller.anthropic.messages.create(model=anthropic_model, max_tokens=64,
                                          messages=[{"role": "user", "content": _prompt("revoked")}])
    assert ok.content[-1].text
    assert admin.delete(f"/admin/keys/{caller.key_id}").status_code == 204
    with pytest.raises(anthropic.AuthenticationError):
        caller.anthropic.messages.create(model=anthropic_model, max_tokens=64, messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.AuthenticationError):
        caller.openai.chat.completions.create(model=openai_model, messages=[{"role": "user", "content": "hi"}])


# 429 with the native headers


def test_rate_limit_429_with_native_headers(base_url, openai_model, anthropic_model):
    key = _env("MOAT_TIGHT_KEY")  # its account's tier: 2 requests per minute
    oa = openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0, timeout=30)
    an = anthropic.Anthropic(base_url=base_url, api_key=key, max_retries=0, timeout=30)

    raw = oa.chat.completions.with_raw_response.create(
        model=openai_model, messages=[{"role": "user", "content": _prompt("tight-1")}], max_completion_tokens=64)
    assert raw.status_code == 200
    assert raw.headers["x-ratelimit-limit-requests"] == "2"
    assert raw.headers["x-ratelimit-remaining-requests"] == "1"
    assert raw.headers["x-ratelimit-reset-requests"].endswith("s")
    assert raw.parse().choices[0].message.content

    raw = an.messages.with_raw_response.create(
        model=anthropic_model, max_tokens=64, messages=[{"role": "user", "content": _prompt("tight-2")}])
    assert raw.status_code == 200
    assert raw.headers["anthropic-ratelimit-requests-limit"] == "2"
    assert raw.headers["anthropic-ratelimit-requests-remaining"] == "0"
    datetime.fromisoformat(raw.headers["anthropic-ratelimit-requests-reset"].replace("Z", "+00:00"))
    assert raw.parse().content[-1].text

    with pytest.raises(openai.RateLimitError) as caught:
        oa.chat.completions.create(model=openai_model, messages=[{"role": "user", "content": "again"}])
    error = caught.value
    assert error.status_code == 429
    assert error.code == "rate_limit_exceeded"
    assert error.type == "requests"
    headers = error.response.headers
    assert int(headers["retry-after"]) >= 1
    assert headers["x-ratelimit-limit-requests"] == "2"
    assert headers["x-ratelimit-remaining-requests"] == "0"

    with pytest.raises(anthropic.RateLimitError) as caught:
        an.messages.create(model=anthropic_model, max_tokens=64, messages=[{"role": "user", "content": "again"}])
    error = caught.value
    assert error.status_code == 429
    assert error.body["error"]["type"] == "rate_limit_error"
    headers = error.response.headers
    assert int(headers["retry-after"]) >= 1
    assert headers["anthropic-ratelimit-requests-limit"] == "2"
    assert headers["anthropic-ratelimit-requests-remaining"] == "0"

    # A stream is refused the same way, before it starts.
    with pytest.raises(anthropic.RateLimitError):
        with an.messages.stream(model=anthropic_model, max_tokens=64, messages=[{"role": "user", "content": "again"}]) as s:
            s.get_final_message()


def test_successful_answers_carry_limit_headers(openai_client, anthropic_client, openai_model, anthropic_model):
    raw = openai_client.chat.completions.with_raw_response.create(
        model=openai_model, messages=[{"role": "user", "content": _prompt("headers")}], max_completion_tokens=64)
    assert int(raw.headers["x-ratelimit-remaining-requests"]) > 0
    raw.parse()
    raw = anthropic_client.messages.with_raw_response.create(
        model=anthropic_model, max_tokens=64, messages=[{"role": "user", "content": _prompt("headers")}])
    assert int(raw.headers["anthropic-ratelimit-requests-remaining"]) > 0
    raw.parse()


# 403 by an operator's block


def test_block_override_is_403_until_removed(admin, caller_factory, openai_model, anthropic_model):
    caller = caller_factory("blocked")
    assert caller.openai.chat.completions.create(
        model=openai_model, messages=[{"role": "user", "content": _prompt("before-block")}]).choices[0].message.content

    _override(admin, caller.account, "block")
    with pytest.raises(openai.PermissionDeniedError) as caught:
        caller.openai.chat.completions.create(model=openai_model, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 403
    assert caller.account in caught.value.message
    with pytest.raises(anthropic.PermissionDeniedError) as caught:
        caller.anthropic.messages.create(model=anthropic_model, max_tokens=64, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 403
    assert caught.value.body["error"]["type"] == "permission_error"
    with pytest.raises(anthropic.PermissionDeniedError):
        with caller.anthropic.messages.stream(model=anthropic_model, max_tokens=64,
                                              messages=[{"role": "user", "content": "hi"}]) as s:
            s.get_final_message()
    with pytest.raises(openai.PermissionDeniedError):
        for _ in caller.openai.chat.completions.create(model=openai_model, stream=True,
                                                       messages=[{"role": "user", "content": "hi"}]):
            pass

    audit = admin.get("/admin/audit", params={"subject": f"account:{caller.account}"})
    assert audit.status_code == 200
    assert "override-block" in audit.text

    _remove_override(admin, caller.account)
    message = caller.anthropic.messages.create(model=anthropic_model, max_tokens=64,
                                               messages=[{"role": "user", "content": _prompt("after-block")}])
    assert message.content[-1].text


# Withheld reasoning


def _anthropic_thinking(caller: Caller, model: str):
    """Thinking requested, non-streaming and streaming: (block types, streamed thinking text, final types)."""
    message = caller.anthropic.messages.create(model=model, max_tokens=2048, thinking=THINKING,
                                               messages=[{"role": "user", "content": _prompt("think")}])
    assert message.content[-1].type == "text" and message.content[-1].text.strip()
    with caller.anthropic.messages.stream(model=model, max_tokens=2048, thinking=THINKING,
                                          messages=[{"role": "user", "content": _prompt("think-stream")}]) as stream:
        events = list(stream)
        final = stream.get_final_message()
    thinking = "".join(e.thinking for e in events if e.type == "thinking")
    text = "".join(e.text for e in events if e.type == "text")
    assert final.content[-1].type == "text" and final.content[-1].text == text and text.strip()
    return [b.type for b in message.content], thinking, [b.type for b in final.content]


def _openai_reasoning(caller: Caller, model: str):
    """OpenAI reasoning requested: whether `reasoning_content` is in the body and in the stream."""
    raw = caller.openai.chat.completions.with_raw_response.create(
        model=model, reasoning_effort="low", messages=[{"role": "user", "content": _prompt("reason")}])
    body = json.loads(raw.text)
    assert body["choices"][0]["message"]["content"]
    in_body = "reasoning_content" in body["choices"][0]["message"]
    in_stream = False
    content = []
    for chunk in caller.openai.chat.completions.create(model=model, reasoning_effort="low", stream=True,
                                                       messages=[{"role": "user", "content": _prompt("reason-stream")}]):
        for choice in chunk.choices:
            extra = choice.delta.model_extra or {}
            in_stream = in_stream or bool(extra.get("reasoning_content"))
            if choice.delta.content:
                content.append(choice.delta.content)
    assert "".join(content).strip()
    return in_body, in_stream


def test_withhold_reasoning_override(admin, caller_factory, openai_model, anthropic_model):
    caller = caller_factory("withheld")
    types, thinking, final_types = _anthropic_thinking(caller, anthropic_model)
    assert types == ["thinking", "text"] and thinking.strip() and final_types == ["thinking", "text"]
    assert _openai_reasoning(caller, openai_model) == (True, True)

    _override(admin, caller.account, "withhold_reasoning")
    types, thinking, final_types = _anthropic_thinking(caller, anthropic_model)
    assert types == ["text"]
    assert thinking == ""
    assert final_types == ["text"]
    assert _openai_reasoning(caller, openai_model) == (False, False)

    _remove_override(admin, caller.account)
    types, thinking, final_types = _anthropic_thinking(caller, anthropic_model)
    assert types == ["thinking", "text"] and thinking.strip() and final_types == ["thinking", "text"]
    assert _openai_reasoning(caller, openai_model) == (True, True)


def _fingerprint_round(caller: Caller, openai_model: str, anthropic_model: str, withheld: bool):
    """Complete and streamed answers through both SDKs (raw iteration and the stream helpers); returns
    [(prompt, text)] after checking that each parses and that streamed text equals the complete text."""
    out = []
    for i in range(10):
        p = _prompt(f"fp{i}")
        messages = [{"role": "user", "content": p}]
        complete = caller.openai.chat.completions.create(model=openai_model, messages=messages)
        text = complete.choices[0].message.content
        streamed = "".join(c.choices[0].delta.content or "" for c in
                           caller.openai.chat.completions.create(model=openai_model, stream=True, messages=messages)
                           if c.choices)
        with caller.openai.chat.completions.stream(model=openai_model, messages=messages) as s:
            helper = s.get_final_completion().choices[0].message.content
        assert text.strip() and streamed == text and helper == text
        out.append((p, text))

        message = caller.anthropic.messages.create(model=anthropic_model, max_tokens=256, messages=messages)
        text = "".join(b.text for b in message.content if b.type == "text")
        streamed = "".join(e.delta.text for e in caller.anthropic.messages.create(
            model=anthropic_model, max_tokens=256, stream=True, messages=messages)
            if e.type == "content_block_delta" and e.delta.type == "text_delta")
        with caller.anthropic.messages.stream(model=anthropic_model, max_tokens=256, messages=messages) as s:
            final = s.get_final_message()
        assert text.strip() and streamed == text and final.content[-1].text == text
        out.append((p, text))
    types, thinking, final_types = _anthropic_thinking(caller, anthropic_model)
    if withheld:
        assert types == ["text"] and thinking == "" and final_types == ["text"]
    else:
        assert types == ["thinking", "text"] and thinking.strip()
    return out


def test_fingerprinted_answers_stay_valid_for_both_sdks_and_carry_the_mark(admin, caller_factory, openai_model,
                                                                            anthropic_model, tmp_path):
    caller = caller_factory("fingerprint")
    clean = _fingerprint_round(caller, openai_model, anthropic_model, withheld=False)
    served = []
    for action in ("fingerprint", "withhold_reasoning+fingerprint"):
        _override(admin, caller.account, action)
        served += _fingerprint_round(caller, openai_model, anthropic_model, withheld=action != "fingerprint")
    _remove_override(admin, caller.account)

    logged = {e.get("countermeasure") for e in _exported(caller.account)}
    assert {None, "fingerprint", "withhold_reasoning+fingerprint"} <= logged

    def score(pairs, env_key):
        path = tmp_path / f"texts-{len(pairs)}-{env_key}.jsonl"
        path.write_text("".join(json.dumps({"prompt": p, "text": t}) + "\n" for p, t in pairs))
        env = dict(os.environ, FP_KEY=env_key)
        # --skip-protected: only units the marker acts on (the default test also reads quotes and code, never marked).
        result = subprocess.run([_env("MOAT_BIN"), "provenance", "score", "--key-env", "FP_KEY", "--skip-protected", "--json", str(path)],
                                capture_output=True, text=True, timeout=60, env=env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    key = _env("MOAT_FINGERPRINT_KEY")
    marked = score(served, key)
    # Every unit follows the key (the mock's short answers hold few units: "therefore"/"thus" after each word).
    assert marked["units"] >= 5 and marked["green"] == marked["units"], {k: marked[k] for k in ("units", "green", "p_value")}
    assert marked["p_value"] <= 2 * 0.5 ** marked["units"] * 1.0001, marked
    # The same texts under another key, and the clean answers under the right key: no evidence.
    assert score(served, "ab" * 32)["p_value"] > 1e-3
    assert score(clean, key)["p_value"] > 1e-3


# The exchange log


def test_every_served_call_is_exported(caller_factory, openai_model, anthropic_model):
    caller = caller_factory("export")
    sent = {}  # prompt -> streamed?

    def prompt(tag, stream):
        p = _prompt(tag)
        sent[p] = stream
        return [{"role": "user", "content": p}]

    caller.openai.chat.completions.create(model=openai_model, messages=prompt("oa", False))
    for _ in caller.openai.chat.completions.create(model=openai_model, stream=True, messages=prompt("oa-s", True)):
        pass
    with caller.openai.chat.completions.stream(model=openai_model, messages=prompt("oa-h", True)) as s:
        s.get_final_completion()
    caller.anthropic.messages.create(model=anthropic_model, max_tokens=128, messages=prompt("an", False))
    for _ in caller.anthropic.messages.create(model=anthropic_model, max_tokens=128, stream=True,
                                              messages=prompt("an-s", True)):
        pass
    with caller.anthropic.messages.stream(model=anthropic_model, max_tokens=2048, thinking=THINKING,
                                          messages=prompt("an-h", True)) as s:
        s.get_final_message()

    logged = _exported(caller.account)
    assert len(logged) == len(sent)
    assert {e["prompt"]: e["stream"] for e in logged} == sent
    assert all(e["status"] == 200 and e["api_key_id"] == caller.key_id for e in logged)
    assert all(e["output_tokens"] > 0 and e["input_tokens"] > 0 for e in logged), [(e["endpoint"], e["stream"], e["input_tokens"], e["output_tokens"]) for e in logged]


def test_zz_session_calls_all_exported(served):
    """Last: every 200 answer the shared clients got this session (test_sdk.py's too) is in the log."""
    logged = [e for e in _exported(_env("MOAT_ACCOUNT")) if e["status"] == 200]
    by_endpoint = {"/v1/chat/completions": 0, "/v1/messages": 0}
    for e in logged:
        by_endpoint["/v1/chat/completions" if e["endpoint"] == "chat.completions" else "/v1/messages"] += 1
    if not served:
        pytest.skip("no call through the shared clients this session")
    assert by_endpoint == {path: served.get(path, 0) for path in by_endpoint}
