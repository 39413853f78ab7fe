"""Optional LLM drafts, summaries and assists through langchain (``TANDEM_LLM__PROVIDER``).

``models`` builds the provider's chat model, ``guard`` keeps calls within the deadline and
behind a circuit breaker, ``privacy`` masks personal data, ``grounding`` checks the facts a
model states, ``prompts`` keeps customer text as quoted data, ``drafter`` is the ``Drafter``
port's LLM implementation and ``assist`` holds the other helpers. Nothing in ``bot/`` imports
this package; ``integrations.composition`` wires it.
"""
