"""Score values beside the main score are shown under their metric's name, not the key they are stored under."""

from exercises.metrics import value_label


def test_a_secondary_metric_is_named_as_its_metric_is() -> None:
    assert value_label("c_rejection") == "c-jet rejection at 60% b-jet efficiency"
    assert value_label("b_light_auc") == "ROC AUC, b-jets against light jets"
    assert value_label("accuracy") == "Accuracy"


def test_a_per_class_recall_names_its_class_in_words() -> None:
    assert value_label("recall_scattered_light") == "Recall of scattered light"


def test_a_value_on_the_private_part_says_so() -> None:
    assert value_label("anomaly_auc_private") == "Anomaly-detection AUC (private part)"
    assert value_label("recall_blip_private") == "Recall of blip (private part)"


def test_an_unknown_name_is_shown_as_it_is_stored() -> None:
    assert value_label("something_new") == "something_new"
