"""Services: what the CLI calls. audit (one server), scan (a fleet), admin (changes)."""
