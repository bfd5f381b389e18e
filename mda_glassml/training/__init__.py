"""Training: labelled data and grouped splits, the shared training loop, nested cross-validation.

``data`` (frames, labels, trajectory groups, splits, windows) → ``loop``
(the harness every model trains with) → ``crossval`` (nested
cross-validation with hyperopt's TPE).
"""
