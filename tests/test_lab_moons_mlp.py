"""moons-mlp: the book's Model_MLP_L2 on Moon1000; its length and learning rate are knobs."""

import nablab.labs as labs


def test_iterations_sets_the_number_of_epochs(tmp_path):
    result = labs.run("moons-mlp", quick=True, out=tmp_path, iterations=7)
    assert result.params["epochs"] == 7
    assert all(0 <= epoch < 7 for epoch in result.metrics["best_epoch"])
    assert "lr 0.2, 7 epochs" in result.setting
    assert any("Changed from the lab's defaults: epochs" in n for n in result.notes)


def test_a_tiny_learning_rate_shows_in_the_setting_and_learns_less(tmp_path, quick_run):
    slow = labs.run("moons-mlp", quick=True, out=tmp_path, lr=0.001, seeds=1)
    assert "gradient descent lr 0.001, 300 epochs" in slow.setting
    base = quick_run("moons-mlp").metrics
    assert slow.metrics["train_accuracy"][0] < base["train_accuracy"][0]
    assert slow.to_dict()["changed"] == {"lr": 0.001, "seeds": 1}
