"""The server's own workflow steps, as a scope no remote caller can enter.

A workflow field (a status, an approval, who decided what and when) is
written only inside :func:`workflow_step`, which the models' ``action_*``
methods enter after checking who may act. The scope lives in a
:class:`contextvars.ContextVar` of the running thread: unlike a key of the
ORM context, which any JSON-RPC or XML-RPC caller can send, it cannot be
set by anything a client sends.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

_STEP_MODELS = ContextVar("complaint_workflow_step_models", default=frozenset())


@contextmanager
def workflow_step(*model_names):
    """Let the code inside write the workflow fields of `model_names`."""
    token = _STEP_MODELS.set(_STEP_MODELS.get() | frozenset(model_names))
    try:
        yield
    finally:
        _STEP_MODELS.reset(token)


def in_workflow_step(model_name):
    return model_name in _STEP_MODELS.get()


class Transition(NamedTuple):
    """One step of a document's life, as its ``action_*`` method takes it.

    :param label: lazily translated verb ("close"), used in refusals
    :param sources: states the step may start from
    :param groups: xml ids of groups any of which may take the step
        (empty: no group condition)
    :param party: name of a method ``(record, user) -> bool`` telling whether
        the user is the party whose turn it is (empty: no party condition)
    :param required: fields that must be filled first
    """

    label: object
    sources: tuple
    groups: tuple = ()
    party: str = ""
    required: tuple = ()
