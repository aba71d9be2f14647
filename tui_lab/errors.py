"""Errors a user can fix. The CLI prints their message as one paragraph and exits 2."""


class UserError(Exception):
    """Bad input: the message says what is wrong, where, and how to fix it."""


class ConfigError(UserError):
    """An invalid option, preset or --set override."""


class DataError(UserError):
    """A dataset that is missing, unreadable or corrupt."""


class DeviceError(UserError):
    """A device that this machine does not have."""
