"""``python -m models``: the default example (logistic regression on generated data)."""

from models.logistic_regression import main

main()
