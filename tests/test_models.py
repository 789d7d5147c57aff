from models.logistic_regression import main


def test_logistic_regression_example_trains(capsys):
    losses = main(["--steps", "60"])
    assert losses[-1] < 0.6 * losses[0]
    assert "train accuracy" in capsys.readouterr().out
