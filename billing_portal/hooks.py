"""Hooks: how a lower app lets a higher one take part in its work without importing it.

An app defines its hooks in its own ``hooks.py`` (``invoices.hooks``, ``accounts.hooks``);
the app above registers receivers in its ``AppConfig.ready()``. See docs/architecture.md.
Registering the same receiver twice has no effect, so ``ready()`` may run again (tests).
"""

from collections.abc import Callable


class Hook:
    """An ordered set of receivers, all called."""

    def __init__(self, name: str):
        self.name = name
        self.receivers: list[Callable] = []

    def register(self, receiver: Callable) -> Callable:
        if receiver not in self.receivers:
            self.receivers.append(receiver)
        return receiver

    def unregister(self, receiver: Callable) -> None:
        if receiver in self.receivers:
            self.receivers.remove(receiver)

    def __call__(self, *args, **kwargs) -> list:
        return [receiver(*args, **kwargs) for receiver in self.receivers]

    def any(self, *args, **kwargs) -> bool:
        """True as soon as one receiver answers True."""
        return any(receiver(*args, **kwargs) for receiver in self.receivers)


class Provider:
    """Exactly one receiver, whose answer is the hook's answer."""

    def __init__(self, name: str):
        self.name = name
        self.receiver: Callable | None = None

    def register(self, receiver: Callable) -> Callable:
        if self.receiver is not None and self.receiver is not receiver:
            raise RuntimeError(f"{self.name} already has a provider: {self.receiver!r}")
        self.receiver = receiver
        return receiver

    def __call__(self, *args, **kwargs):
        if self.receiver is None:
            raise RuntimeError(f"No app provides {self.name}; is its app installed?")
        return self.receiver(*args, **kwargs)
