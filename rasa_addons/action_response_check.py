"""Rasa's check of an action server's reply, with the JSON schema compiled once per process.

Rasa 3.6 checks every custom action's reply with ``jsonschema.validate(result, schema)``,
which first validates the (large) events schema itself against its meta-schema on every
call: in the turn profile (bench/turn_profile.py, issue #15) that was a visible share of
Rasa's own CPU per custom action. The reply is checked exactly as before, against the same
schema and with the same error, by a validator built once.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@cache
def _validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def check_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with the compiled validator; raises the same ``ValidationError``."""
    try:
        _validator().validate(result)
        return True
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error


def install() -> None:
    """Use :func:`check_action_result` for every remote action of this process."""
    RemoteAction._validate_action_result = check_action_result  # type: ignore[method-assign]
