"""Conformance with the official OpenAI and Anthropic Python SDKs.

Generic on purpose: the same file runs against the mock upstream and against `moat serve`
(see conftest.py for the environment it reads).
"""

import anthropic
import openai
import pytest

PROMPT = "In one paragraph, what is a moat around a castle for?"


# OpenAI chat completions


def test_openai_chat_non_streaming(openai_client, openai_model):
    completion = openai_client.chat.completions.create(
        model=openai_model,
        messages=[
            {"role": "system", "content": "You answer briefly."},
            {"role": "user", "content": PROMPT},
        ],
        max_completion_tokens=256,
    )
    assert completion.object == "chat.completion"
    assert completion.id
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content and choice.message.content.strip()
    assert choice.finish_reason in ("stop", "length")
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens > 0
    assert usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_openai_chat_streaming_with_usage(openai_client, openai_model):
    stream = openai_client.chat.completions.create(
        model=openai_model,
        messages=[{"role": "user", "content": PROMPT}],
        max_completion_tokens=256,
        stream=True,
        stream_options={"include_usage": True},
    )
    text, finish_reasons, usage, chunks = [], [], None, 0
    for chunk in stream:
        chunks += 1
        assert chunk.object == "chat.completion.chunk"
        for choice in chunk.choices:
            if choice.delta.content:
                text.append(choice.delta.content)
            if choice.finish_reason:
                finish_reasons.append(choice.finish_reason)
        if chunk.usage is not None:
            assert chunk.choices == []
            usage = chunk.usage
    assert chunks > 2
    assert "".join(text).strip()
    assert finish_reasons in (["stop"], ["length"])
    assert usage is not None
    assert usage.prompt_tokens > 0
    assert usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_openai_chat_stream_helper(openai_client, openai_model):
    with openai_client.chat.completions.stream(
        model=openai_model,
        messages=[{"role": "user", "content": PROMPT}],
        max_completion_tokens=256,
        stream_options={"include_usage": True},
    ) as stream:
        deltas = [event.delta for event in stream if event.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(deltas) == final.choices[0].message.content
    assert final.usage is not None and final.usage.completion_tokens > 0


# Anthropic messages


def test_anthropic_messages_non_streaming(anthropic_client, anthropic_model):
    message = anthropic_client.messages.create(
        model=anthropic_model,
        max_tokens=256,
        system="You answer briefly.",
        messages=[{"role": "user", "content": PROMPT}],
    )
    assert message.type == "message"
    assert message.role == "assistant"
    assert message.id
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text.strip()
    assert message.stop_reason in ("end_turn", "max_tokens")
    assert message.usage.input_tokens > 0
    assert message.usage.output_tokens > 0


def test_anthropic_messages_create_stream_true(anthropic_client, anthropic_model):
    stream = anthropic_client.messages.create(
        model=anthropic_model,
        max_tokens=256,
        messages=[{"role": "user", "content": PROMPT}],
        stream=True,
    )
    types, text, input_tokens, output_tokens, stop_reason = [], [], None, None, None
    for event in stream:
        types.append(event.type)
        if event.type == "message_start":
            input_tokens = event.message.usage.input_tokens
        elif event.type == "content_block_delta" and event.delta.type == "text_delta":
            text.append(event.delta.text)
        elif event.type == "message_delta":
            output_tokens = event.usage.output_tokens
            stop_reason = event.delta.stop_reason
    assert types[0] == "message_start"
    assert types[-1] == "message_stop"
    assert "content_block_start" in types and "content_block_stop" in types
    assert "".join(text).strip()
    assert input_tokens and input_tokens > 0
    assert output_tokens and output_tokens > 0
    assert stop_reason in ("end_turn", "max_tokens")


def test_anthropic_messages_stream_helper(anthropic_client, anthropic_model):
    with anthropic_client.messages.stream(
        model=anthropic_model,
        max_tokens=256,
        messages=[{"role": "user", "content": PROMPT}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text.strip()
    assert final.content[-1].type == "text"
    assert final.content[-1].text == text
    assert final.usage.input_tokens > 0
    assert final.usage.output_tokens > 0


THINKING = {"type": "enabled", "budget_tokens": 1024}


def test_anthropic_thinking_non_streaming(anthropic_client, anthropic_model):
    message = anthropic_client.messages.create(
        model=anthropic_model,
        max_tokens=2048,
        thinking=THINKING,
        messages=[{"role": "user", "content": PROMPT}],
    )
    types = [block.type for block in message.content]
    assert types[0] == "thinking"
    assert types[-1] == "text"
    assert message.content[0].thinking.strip()
    assert message.content[0].signature
    assert message.usage.output_tokens > 0


def test_anthropic_thinking_streaming(anthropic_client, anthropic_model):
    with anthropic_client.messages.stream(
        model=anthropic_model,
        max_tokens=2048,
        thinking=THINKING,
        messages=[{"role": "user", "content": PROMPT}],
    ) as stream:
        thinking = [event.thinking for event in stream if event.type == "thinking"]
        final = stream.get_final_message()
    assert "".join(thinking).strip()
    assert final.content[0].type == "thinking"
    assert final.content[0].thinking == "".join(thinking)
    assert final.content[0].signature
    assert final.content[-1].type == "text" and final.content[-1].text.strip()
    assert final.usage.output_tokens > 0


# Upstream errors in the native shapes (the mock's x-mock-error header)


@pytest.mark.parametrize(
    "status, openai_error, anthropic_error",
    [
        (429, openai.RateLimitError, anthropic.RateLimitError),
        (500, openai.InternalServerError, anthropic.InternalServerError),
        (529, openai.InternalServerError, anthropic.InternalServerError),
    ],
)
def test_upstream_errors_raise_sdk_exceptions(
    openai_client, anthropic_client, openai_model, anthropic_model, upstream_is_mock,
    status, openai_error, anthropic_error,
):
    if not upstream_is_mock:
        pytest.skip("needs the mock upstream's x-mock-error header")
    headers = {"x-mock-error": str(status)}
    with pytest.raises(openai_error) as caught:
        openai_client.chat.completions.create(
            model=openai_model, messages=[{"role": "user", "content": PROMPT}], extra_headers=headers
        )
    assert caught.value.status_code == status
    assert caught.value.message
    with pytest.raises(anthropic_error) as caught:
        anthropic_client.messages.create(
            model=anthropic_model, max_tokens=64, messages=[{"role": "user", "content": PROMPT}],
            extra_headers=headers,
        )
    assert caught.value.status_code == status
    assert isinstance(caught.value.body, dict)
    assert caught.value.body.get("type") == "error"
