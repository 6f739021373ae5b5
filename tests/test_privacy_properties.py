"""The privacy policy is written once, for an event's JSON object
(``PrivacyPolicy.apply_dict``, what the recorder's writer uses); ``apply`` is made from it.
Both are checked against the policy as it was written for event objects
(``privacy_reference``), for every event class, every capture set and several redactors and
output caps: the same bytes for events built in Python, the same events for events read
from the wire (whose keys may come in any order)."""

from __future__ import annotations

import copy
from typing import Any

import strategies as s
from hypothesis import example, given, settings
from hypothesis import strategies as st
from privacy_reference import ReferencePolicy

from agent_trace.events import (
    Capture,
    CommandExecutionItem,
    ItemCompletedEvent,
    PrivacyPolicy,
    ThreadEvent,
    UnknownEvent,
    from_dict,
    to_dict,
)
from agent_trace.events._redact import Redactor, SecretPattern
from agent_trace.events._wire import dumps

# Digits are "secrets" here: random text holds them often, the marker never.
DIGITS = Redactor((SecretPattern.of("digits", "[0-9]+"),))

policies = st.builds(
    PrivacyPolicy,
    capture=st.frozensets(st.sampled_from(list(Capture))),
    redactor=st.sampled_from([None, Redactor(), DIGITS]),
    max_output_bytes=st.sampled_from([-1, 0, 3, 16 * 1024]),
)

COMMAND = ItemCompletedEvent(
    item=CommandExecutionItem(
        id="1",
        command="cat ~/.netrc 42",
        arguments={"argv": ["cat", "7"]},
        aggregated_output="token 123\n",
        exit_code=0,
        status="completed",
        extra={"agent_trace_omitted": ["reasoning"], "cwd": "/w"},
    )
)


@settings(max_examples=400, deadline=None)
@given(event=s.events, policy=policies)
@example(event=COMMAND, policy=PrivacyPolicy())
@example(event=COMMAND, policy=PrivacyPolicy(capture="all", redactor=DIGITS, max_output_bytes=3))
def test_the_policy_on_json_objects_writes_what_the_policy_on_objects_wrote(
    event: ThreadEvent, policy: PrivacyPolicy
) -> None:
    expected = ReferencePolicy(policy).apply(event)
    body = to_dict(event)
    before = copy.deepcopy(body)
    kept = policy.apply_dict(body)
    assert dumps(kept) == dumps(to_dict(expected))  # the same bytes: keys in the same order
    assert body == before  # the event's own object is not changed
    assert policy.apply(event) == expected


def _reordered(value: Any, order: st.DataObject) -> Any:
    """``value`` with the keys of every object in a drawn order."""
    if isinstance(value, dict):
        keys = order.draw(st.permutations(list(value)))
        return {k: _reordered(value[k], order) for k in keys}
    if isinstance(value, list):
        return [_reordered(v, order) for v in value]
    return value


@settings(max_examples=300, deadline=None)
@given(event=s.events, policy=policies, order=st.data())
def test_the_policy_keeps_of_an_event_read_from_the_wire_what_it_kept_before(
    event: ThreadEvent, policy: PrivacyPolicy, order: st.DataObject
) -> None:
    if isinstance(event, UnknownEvent):
        wire: ThreadEvent = event
    else:
        wire = from_dict(_reordered(to_dict(event), order))
    expected = ReferencePolicy(policy).apply(wire)
    assert from_dict(policy.apply_dict(to_dict(wire))) == expected
    assert policy.apply(wire) == expected
