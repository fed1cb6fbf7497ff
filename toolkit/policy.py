"""The policy API by its public name: ``toolkit.rules.policy`` has the code and the file format.

A policy selects among the registered rules, so it sits in the rules package above the registry
(which it checks every id against) and below the engines (which apply it).
"""

from __future__ import annotations

from toolkit.rules.policy import (
    PROFILES,
    Policy,
    Suppression,
    Thresholds,
    default_policy,
    load_policy,
    parse_duration,
    parse_policy,
    policy_to_dict,
    policy_to_toml,
)

__all__ = [
    "PROFILES",
    "Policy",
    "Suppression",
    "Thresholds",
    "default_policy",
    "load_policy",
    "parse_duration",
    "parse_policy",
    "policy_to_dict",
    "policy_to_toml",
]
