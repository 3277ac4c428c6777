"""``rasa run`` with the HTTP API token read from the environment, so it never shows in a process list.

``rasa run --auth-token TOKEN`` puts the token in the command line, which every local user
can read (``ps``, ``/proc/<pid>/cmdline``). The launcher starts this module instead, with the
token in ``RASA_AUTH_TOKEN``; it adds the option to ``sys.argv`` inside the process (the
kernel's copy of the command line does not change) and hands over to Rasa's own CLI, after
taking away the tracker store's silent fallback to memory (:mod:`rasa_addons.strict_tracker_store`),
installing the once-compiled check of action replies (:mod:`rasa_addons.action_response_check`) and
loading the model's TensorFlow parts without Rasa's one-example training step (:mod:`rasa_addons.model_load`).
"""

from __future__ import annotations

import os
import sys

from rasa.__main__ import main

from rasa_addons import strict_tracker_store
from rasa_addons.action_response_check import install as check_action_replies_once
from rasa_addons.model_load import install as load_models_for_prediction


def run() -> None:
    """Start ``rasa run`` with the arguments given here plus the token from the environment."""
    token = os.environ.get("RASA_AUTH_TOKEN")
    if not token:
        sys.exit("RASA_AUTH_TOKEN is not set: the Rasa HTTP API must not run without a token")
    sys.argv = ["rasa", "run", *sys.argv[1:], "--auth-token", token]
    strict_tracker_store.install()
    check_action_replies_once()
    load_models_for_prediction()
    main()


if __name__ == "__main__":
    run()
