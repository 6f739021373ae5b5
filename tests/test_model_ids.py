"""Model ids in the models.dev ``provider/model`` form (spec §6.7)."""

from __future__ import annotations

import pytest

from agent_trace._model_ids import MODEL_ID_MAX_LENGTH, normalize_model_id, provider_of

NORMALIZED: list[tuple[str, str | None, str]] = [
    # Anthropic
    ("claude-sonnet-4-5", None, "anthropic/claude-sonnet-4-5"),
    ("claude-opus-4-5-20251101", None, "anthropic/claude-opus-4-5-20251101"),
    ("claude-3-5-sonnet-20241022", None, "anthropic/claude-3-5-sonnet-20241022"),
    ("Claude-3-Opus", None, "anthropic/Claude-3-Opus"),  # case of the name is kept
    # OpenAI
    ("gpt-4o", None, "openai/gpt-4o"),
    ("gpt-5-codex", None, "openai/gpt-5-codex"),
    ("gpt-oss-120b", None, "openai/gpt-oss-120b"),
    ("chatgpt-4o-latest", None, "openai/chatgpt-4o-latest"),
    ("codex-mini-latest", None, "openai/codex-mini-latest"),
    ("o1", None, "openai/o1"),
    ("o1-preview", None, "openai/o1-preview"),
    ("o3", None, "openai/o3"),
    ("o3-mini", None, "openai/o3-mini"),
    ("o4-mini", None, "openai/o4-mini"),
    # Google, xAI and others
    ("gemini-2.5-pro", None, "google/gemini-2.5-pro"),
    ("gemini-2.0-flash", None, "google/gemini-2.0-flash"),
    ("grok-4", None, "xai/grok-4"),
    ("grok-code-fast-1", None, "xai/grok-code-fast-1"),
    ("mistral-large", None, "mistral/mistral-large"),
    ("deepseek-chat", None, "deepseek/deepseek-chat"),
    ("qwen3-coder", None, "alibaba/qwen3-coder"),
    ("kimi-k2", None, "moonshotai/kimi-k2"),
    ("glm-4.6", None, "zhipuai/glm-4.6"),
    # already prefixed: unchanged, even with a provider given
    ("openai/gpt-4o", None, "openai/gpt-4o"),
    ("anthropic/claude-opus-4-5-20251101", None, "anthropic/claude-opus-4-5-20251101"),
    ("openai/gpt-4o", "azure", "openai/gpt-4o"),
    ("openrouter/anthropic/claude-sonnet-4", None, "openrouter/anthropic/claude-sonnet-4"),
    # explicit provider aliases (VT Code's `provider` field)
    ("gemini-2.5-pro", "Gemini", "google/gemini-2.5-pro"),
    ("gemini-2.5-pro", "google", "google/gemini-2.5-pro"),
    ("claude-3-5-sonnet", "bedrock", "amazon-bedrock/claude-3-5-sonnet"),
    ("claude-3-5-sonnet", "AWS-Bedrock", "amazon-bedrock/claude-3-5-sonnet"),
    ("claude-sonnet-4", "Claude", "anthropic/claude-sonnet-4"),
    ("gpt-4o", "azure-openai", "azure/gpt-4o"),
    ("gemini-2.5-pro", "vertex", "google-vertex/gemini-2.5-pro"),
    ("grok-4", "x-ai", "xai/grok-4"),
    ("kimi-k2", "moonshot", "moonshotai/kimi-k2"),
    ("llama3.1:8b", "ollama", "ollama/llama3.1:8b"),
    ("my-model", "Some Provider", "some-provider/my-model"),  # unknown provider: slugged
    ("gpt-4o", "  ", "openai/gpt-4o"),  # blank provider: inferred from the name
    # unknown names: unchanged, no provider invented
    ("my-local-model", None, "my-local-model"),
    ("orca-mini", None, "orca-mini"),
    ("o1x", None, "o1x"),
    ("opus", None, "opus"),
    ("grok", None, "grok"),
    # surrounding whitespace is dropped
    ("  gpt-4o  ", None, "openai/gpt-4o"),
]


@pytest.mark.parametrize(
    ("model", "provider", "expected"),
    NORMALIZED,
    ids=[f"{m.strip()}|{p}" for m, p, _ in NORMALIZED],
)
def test_normalize_model_id(model: str, provider: str | None, expected: str) -> None:
    assert normalize_model_id(model, provider) == expected


@pytest.mark.parametrize("model", [m for m, p, _ in NORMALIZED if p is None])
def test_normalize_model_id_is_idempotent(model: str) -> None:
    once = normalize_model_id(model)
    assert normalize_model_id(once) == once


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("claude-sonnet-4-5", "anthropic"),
        ("gpt-4o", "openai"),
        ("o3-mini", "openai"),
        ("O3-MINI", "openai"),
        ("o1_preview", "openai"),
        ("o3.5", "openai"),
        ("gemini-2.5-pro", "google"),
        ("gemma-3-27b", "google"),
        ("grok-4", "xai"),
        ("orca-mini", None),
        ("o1x", None),
        ("openai", None),
        ("my-local-model", None),
        ("openai/gpt-4o", None),
    ],
)
def test_provider_of(model: str, provider: str | None) -> None:
    assert provider_of(model) == provider


@pytest.mark.parametrize("model", ["", " ", "\t\n"])
def test_empty_model_id_is_an_error(model: str) -> None:
    with pytest.raises(ValueError, match="model id is empty"):
        normalize_model_id(model)


def test_too_long_model_id_is_an_error() -> None:
    assert MODEL_ID_MAX_LENGTH == 250
    assert normalize_model_id("m" * 250) == "m" * 250
    with pytest.raises(ValueError, match="model id is 251 characters long; the spec allows 250"):
        normalize_model_id("m" * 251)
    with pytest.raises(ValueError, match="251 characters"):
        normalize_model_id("openai/" + "m" * 244)


def test_length_limit_applies_to_the_prefixed_id() -> None:
    name = "gpt-" + "x" * 239  # 243 characters, 250 with "openai/"
    assert len(normalize_model_id(name)) == 250
    with pytest.raises(ValueError, match="251 characters"):
        normalize_model_id(name + "x")
