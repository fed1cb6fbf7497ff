"""The shape of a rule id (``KEY001``), free of imports: ``windns explain`` checks it before it
loads the rules, so explaining a Win32 error code does not load the rule engine."""

from __future__ import annotations

import re

__all__ = ["RULE_ID"]

RULE_ID = re.compile(r"^[A-Za-z]{2,4}[0-9]{3}$")
