"""Model identifiers in the models.dev ``provider/model`` form the spec asks for (§6.7)."""

from __future__ import annotations

__all__ = ["MODEL_ID_MAX_LENGTH", "normalize_model_id", "provider_of"]

MODEL_ID_MAX_LENGTH = 250
"""``contributor.model_id`` ``maxLength`` in the spec schema."""

# Longest prefix first: "gpt-oss" is OpenAI's, "o1"/"o3"/"o4" are matched as whole words.
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("claude", "anthropic"),
    ("gpt-", "openai"),
    ("chatgpt-", "openai"),
    ("codex-", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("gemini-", "google"),
    ("gemma-", "google"),
    ("grok-", "xai"),
    ("mistral-", "mistral"),
    ("codestral-", "mistral"),
    ("devstral-", "mistral"),
    ("magistral-", "mistral"),
    ("ministral-", "mistral"),
    ("pixtral-", "mistral"),
    ("deepseek-", "deepseek"),
    ("qwen", "alibaba"),
    ("kimi-", "moonshotai"),
    ("glm-", "zhipuai"),
    ("command-", "cohere"),
    ("llama", "meta"),
)

# Provider names as agents report them → models.dev provider ids.
_PROVIDER_ALIASES = {
    "anthropic": "anthropic",
    "claude": "anthropic",
    "openai": "openai",
    "azure": "azure",
    "azure-openai": "azure",
    "google": "google",
    "gemini": "google",
    "google-vertex": "google-vertex",
    "vertex": "google-vertex",
    "vertexai": "google-vertex",
    "bedrock": "amazon-bedrock",
    "amazon-bedrock": "amazon-bedrock",
    "aws-bedrock": "amazon-bedrock",
    "xai": "xai",
    "x-ai": "xai",
    "mistral": "mistral",
    "mistralai": "mistral",
    "deepseek": "deepseek",
    "openrouter": "openrouter",
    "ollama": "ollama",
    "groq": "groq",
    "moonshot": "moonshotai",
    "moonshotai": "moonshotai",
    "zhipu": "zhipuai",
    "zhipuai": "zhipuai",
    "cohere": "cohere",
    "meta": "meta",
    "alibaba": "alibaba",
    "qwen": "alibaba",
}


def provider_of(model: str) -> str | None:
    """The models.dev provider a bare model name belongs to, or ``None`` if unknown."""
    name = model.strip().lower()
    for prefix, provider in _PREFIXES:
        if not name.startswith(prefix):
            continue
        if prefix in ("o1", "o3", "o4"):
            rest = name[len(prefix) :]
            if rest and rest[0] not in "-_.":  # "o1" or "o3-mini", not "orca"
                continue
        return provider
    return None


def normalize_model_id(model: str, provider: str | None = None) -> str:
    """``provider/model`` for a model name as agents report it.

    * ids that already have a provider (``openai/gpt-4o``) are kept as they are;
    * ``provider`` (e.g. VT Code's ``provider`` field) is used when given, mapped to the
      models.dev id (``"Gemini"`` → ``google``, ``"bedrock"`` → ``amazon-bedrock``);
    * otherwise the provider is inferred from the name (``claude-…`` → ``anthropic``,
      ``gpt-…``/``o3…`` → ``openai``, ``gemini-…`` → ``google``, …);
    * a name no rule knows is returned unchanged (no invented provider).

    Raises ``ValueError`` for an empty id or one longer than 250 characters.
    """
    name = model.strip()
    if not name:
        raise ValueError("model id is empty")
    if "/" not in name:
        chosen = None
        if provider is not None and provider.strip():
            key = provider.strip().lower()
            chosen = _PROVIDER_ALIASES.get(key, key.replace(" ", "-"))
        else:
            chosen = provider_of(name)
        if chosen is not None:
            name = f"{chosen}/{name}"
    if len(name) > MODEL_ID_MAX_LENGTH:
        raise ValueError(
            f"model id is {len(name)} characters long; the spec allows {MODEL_ID_MAX_LENGTH}"
        )
    return name
