"""What employees answered. `submit()` is the one way in, for every channel."""


def submit(*args, **kwargs):
    """Record an answer; see `lastweek.reports.actions.submit` (imported lazily so the app registry loads
    before the models)."""
    from lastweek.reports.actions import submit as _submit

    return _submit(*args, **kwargs)
